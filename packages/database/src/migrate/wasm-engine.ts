// Loads Prisma's WebAssembly schema engine (@prisma/schema-engine-wasm, pinned to prisma's engines version) and runs
// one engine per operation. The package is internal to Prisma and its API may change with any version bump.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm';
import type * as SchemaEngineGlue from '@prisma/schema-engine-wasm/schema_engine_bg';

type Bindings = typeof SchemaEngineGlue;

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
    const imports = { ...glue, ...unrefTimers(glue) };
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': imports });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return bindings;
}

// The engine arms 10 s timeouts (setTimeout) and never clears them, so every command would linger ~10 s after it
// finished. Its timers are unref'd, and withSchemaEngine() holds the event loop open while an operation runs, so an
// engine waiting on a timer (with PGlite there is no socket to keep the loop alive) is not cut short.
function unrefTimers(glue: Bindings): Record<string, unknown> {
  const name = Object.keys(glue).find((key) => key.startsWith('__wbg_setTimeout_'));
  if (!name) return {};
  const setTimer = (glue as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
  return {
    [name]: (...args: unknown[]) => {
      const timer = setTimer(...args) as { unref?: () => void };
      timer.unref?.();
      return timer;
    },
  };
}

/** Runs `use` with a fresh engine talking to the database through `factory`; the engine is freed afterwards. */
export async function withSchemaEngine<T>(
  factory: SqlMigrationAwareDriverAdapterFactory,
  use: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const glue = await loadBindings();
  const keepAlive = setInterval(() => {}, 60_000); // see unrefTimers()
  const onLog = (line: string) => {
    if (process.env.DEBUG_SCHEMA_ENGINE) process.stderr.write(`[schema-engine] ${line}\n`);
  };
  try {
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
  } finally {
    clearInterval(keepAlive);
  }
}

// A Rust panic surfaces as `RuntimeError: unreachable`; the real message is in the registry. The instance is then in
// an unknown state and cannot be replaced (the glue module caches views of its memory), so later operations fail.
function explainPanic(error: unknown): never {
  if (error instanceof WebAssembly.RuntimeError) {
    const message = `schema engine panicked: ${globals.PRISMA_WASM_PANIC_REGISTRY?.get() || error.message}`;
    bindings = Promise.reject(new Error(`${message} (earlier in this process; restart it)`));
    bindings.catch(() => {});
    throw new Error(message, { cause: error });
  }
  throw error;
}
