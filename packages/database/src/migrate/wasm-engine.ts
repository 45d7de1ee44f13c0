// Loads Prisma's WebAssembly schema engine (@prisma/schema-engine-wasm, pinned to prisma's engines version) and runs
// one engine per operation. The package is internal to Prisma and its API may change with any version bump.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm';

type Bindings = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

export const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };

// The engine's panic hook calls `global.PRISMA_WASM_PANIC_REGISTRY.set_message(...)`; without a registry the hook
// itself throws and the panic message is lost. Same shape as the registry the Prisma CLI installs (so we keep
// theirs if it is already there).
interface PanicRegistry {
  get(): string;
  set_message(message: string): void;
}
class WasmPanicRegistry implements PanicRegistry {
  private message = '';
  get(): string {
    return this.message;
  }
  set_message(message: string): void {
    this.message = `RuntimeError: ${message}`;
  }
}
const globals = globalThis as typeof globalThis & { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry };

// The compiler's lib (ES2023, no DOM) lacks the WebAssembly namespace; this is the part of Node's global we use.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>;
  RuntimeError: abstract new () => Error;
};

let bindings: Promise<Bindings> | undefined;

// The package's entry (`schema_engine.js`) does `import * as wasm from './schema_engine_bg.wasm'`, an ESM wasm
// import that Node 20 refuses without --experimental-wasm-modules. So we instantiate the .wasm ourselves against
// the JS glue (`schema_engine_bg.js`) and hand the instance to it, which is all that entry file does.
function loadBindings(): Promise<Bindings> {
  bindings ??= (async () => {
    globals.PRISMA_WASM_PANIC_REGISTRY ??= new WasmPanicRegistry();
    const glue: Bindings = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    const require = createRequire(import.meta.url);
    const wasmPath = path.join(path.dirname(require.resolve('@prisma/schema-engine-wasm')), 'schema_engine_bg.wasm');
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  bindings.catch(() => (bindings = undefined));
  return bindings;
}

/** Runs `use` with a fresh engine talking to the database through `factory`; the engine is freed afterwards. */
export async function withSchemaEngine<T>(
  factory: SqlMigrationAwareDriverAdapterFactory,
  use: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const glue = await loadBindings();
  const onLog = (line: string) => {
    if (process.env.DEBUG_SCHEMA_ENGINE) process.stderr.write(`[schema-engine] ${line}\n`);
  };
  // SchemaEngine.new connects at once through factory.connect().
  const engine = await glue.SchemaEngine.new(
    { datamodels: undefined },
    onLog,
    bindMigrationAwareSqlAdapterFactory(factory),
  ).catch(explainPanic);
  try {
    return await use(engine).catch(explainPanic);
  } finally {
    engine.free();
  }
}

// A Rust panic surfaces as `RuntimeError: unreachable`; the real message is in the registry. After a panic the
// instance's memory is in an unknown state, so the next operation instantiates a fresh one.
function explainPanic(error: unknown): never {
  if (error instanceof WebAssembly.RuntimeError) {
    bindings = undefined;
    const message = globals.PRISMA_WASM_PANIC_REGISTRY?.get();
    if (message) throw new Error(`schema engine panicked: ${message}`, { cause: error });
  }
  throw error;
}
