// Helpers of deployment-assets.test.ts: read the operations assets (deploy/, ops/, the workflow, the
// compose file) and answer what the code really registers and reads, without servers or network.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import YAML from 'yaml';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const repoPath = (...parts: string[]) => path.join(REPO, ...parts);
export const readText = (relative: string) => readFileSync(repoPath(relative), 'utf8');

export type Json = Record<string, unknown>;

/** Every document of a YAML file (merge keys `<<` resolved, as Compose and Kubernetes tooling do). */
export function readYamlDocuments(relative: string): Json[] {
  const documents = YAML.parseAllDocuments(readText(relative), { merge: true });
  const problems = documents.flatMap((doc) => doc.errors.map((error) => `${relative}: ${error.message}`));
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return documents.map((doc) => doc.toJS() as Json).filter((doc) => doc !== null);
}

export const readYaml = (relative: string): Json => {
  const [only, ...rest] = readYamlDocuments(relative);
  if (!only || rest.length > 0) throw new Error(`${relative}: expected exactly one YAML document`);
  return only;
};

/** KEY=VALUE lines of a kustomize `envs` file (comments and blank lines skipped). */
export function readEnvFile(relative: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of readText(relative).split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(trimmed);
    if (!match) throw new Error(`${relative}: not KEY=VALUE: ${line}`);
    entries[match[1]!] = match[2]!;
  }
  return entries;
}

export function listFiles(relativeDir: string, accept: (file: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(repoPath(dir))) {
      if (name === 'node_modules' || name === 'generated') continue;
      const relative = path.join(dir, name);
      if (statSync(repoPath(relative)).isDirectory()) walk(relative);
      else if (accept(relative)) out.push(relative);
    }
  };
  walk(relativeDir);
  return out.sort();
}

// ---------------------------------------------------------------------------------------------------------
// Metrics registered in the code

export type MetricKind = 'Counter' | 'Gauge' | 'Histogram' | 'Summary';
export interface RegisteredMetric {
  name: string;
  kind: MetricKind;
  file: string;
}
export interface MetricScan {
  metrics: RegisteredMetric[];
  /** `new Counter({ name })` sites whose name is not a literal this scan can follow (a failure). */
  unresolved: string[];
}

const METRIC_KINDS = new Set<string>(['Counter', 'Gauge', 'Histogram', 'Summary']);

/**
 * Finds every prom-client metric constructed in the services' source (`new Counter({ name: ... })`),
 * following the name when it is a string literal, a `const` holding one, or a parameter of a helper
 * called with literals in the same file (`counter(registry, 'outbox_published_total', ...)`).
 */
export function scanRegisteredMetrics(sourceDirs: string[]): MetricScan {
  const metrics: RegisteredMetric[] = [];
  const unresolved: string[] = [];
  const files = sourceDirs.flatMap((dir) =>
    listFiles(dir, (file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !/\.(int\.)?test\.ts$/.test(file)),
  );
  for (const file of files) {
    const text = readText(file);
    if (!/new\s+(Counter|Gauge|Histogram|Summary)\s*(<[^>]*>)?\s*\(/.test(text)) continue;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node) => {
      if (ts.isNewExpression(node)) {
        const kind = node.expression.getText(source).split('.').pop()!;
        const options = node.arguments?.[0];
        if (METRIC_KINDS.has(kind) && options && ts.isObjectLiteralExpression(options)) {
          const where = `${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
          const names = metricNamesOf(options, source);
          if (names) for (const name of names) metrics.push({ name, kind: kind as MetricKind, file });
          else unresolved.push(where);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { metrics, unresolved };
}

function metricNamesOf(options: ts.ObjectLiteralExpression, source: ts.SourceFile): string[] | undefined {
  for (const property of options.properties) {
    if (property.name?.getText(source) !== 'name') continue;
    if (ts.isPropertyAssignment(property)) {
      if (ts.isStringLiteralLike(property.initializer)) return [property.initializer.text];
      if (ts.isIdentifier(property.initializer)) return resolveIdentifier(property.initializer, source);
    }
    if (ts.isShorthandPropertyAssignment(property)) return resolveIdentifier(property.name, source);
  }
  return undefined;
}

/** A const initialised with a literal, or a parameter of a function called with literals in this file. */
function resolveIdentifier(identifier: ts.Identifier, source: ts.SourceFile): string[] | undefined {
  const name = identifier.text;
  for (let scope: ts.Node | undefined = identifier.parent; scope; scope = scope.parent) {
    if (ts.isFunctionLike(scope)) {
      const index = scope.parameters.findIndex((parameter) => parameter.name.getText(source) === name);
      if (index >= 0) return literalArgumentsOf(functionName(scope, source), index, source);
    }
    if (ts.isBlock(scope) || ts.isSourceFile(scope)) {
      for (const statement of scope.statements) {
        if (!ts.isVariableStatement(statement)) continue;
        for (const declaration of statement.declarationList.declarations) {
          if (
            declaration.name.getText(source) === name &&
            declaration.initializer &&
            ts.isStringLiteralLike(declaration.initializer)
          ) {
            return [declaration.initializer.text];
          }
        }
      }
    }
  }
  return undefined;
}

function functionName(fn: ts.SignatureDeclaration, source: ts.SourceFile): string | undefined {
  if (ts.isFunctionDeclaration(fn) && fn.name) return fn.name.text;
  if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isVariableDeclaration(fn.parent))
    return fn.parent.name.getText(source);
  return undefined;
}

function literalArgumentsOf(fnName: string | undefined, index: number, source: ts.SourceFile): string[] | undefined {
  if (!fnName) return undefined;
  const found: string[] = [];
  let allLiteral = true;
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === fnName) {
      const argument = node.arguments[index];
      if (argument && ts.isStringLiteralLike(argument)) found.push(argument.text);
      else allLiteral = false;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return allLiteral && found.length > 0 ? found : undefined;
}

/** Series names a registered metric exposes (histograms and summaries add their suffixed series). */
export function exposedSeries(metric: Pick<RegisteredMetric, 'name' | 'kind'>): string[] {
  if (metric.kind === 'Histogram') return [`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`];
  if (metric.kind === 'Summary') return [metric.name, `${metric.name}_sum`, `${metric.name}_count`];
  return [metric.name];
}

// ---------------------------------------------------------------------------------------------------------
// PromQL

/** Grafana's built-in interval variables, replaced by a plain duration so the expression is PromQL. */
export const withoutGrafanaVariables = (expr: string) => expr.replace(/\$__(rate_interval|interval|range)/g, '5m');

export interface PromqlReading {
  metrics: string[];
  problems: string[];
}

/** Parses one expression with Prometheus' own grammar and lists the metric names it selects. */
export function readPromql(expr: string): PromqlReading {
  const tree = promqlParser.parse(expr);
  const metrics = new Set<string>();
  const problems: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError)
        problems.push(`syntax error at ${node.from}: "${expr.slice(Math.max(0, node.from - 20), node.to + 20)}"`);
      if (node.name === 'VectorSelector') {
        const identifier = node.node.getChild('Identifier');
        if (identifier) metrics.add(expr.slice(identifier.from, identifier.to));
        else problems.push(`selector without a metric name: ${expr.slice(node.from, node.to)}`);
      }
    },
  });
  return { metrics: [...metrics], problems };
}

// ---------------------------------------------------------------------------------------------------------
// Kubernetes quantities and GitHub-style heading anchors

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9 };

export function parseQuantity(value: string | number): number {
  const match = /^([0-9.]+)(Ki|Mi|Gi|m|k|M|G)?$/.exec(String(value));
  if (!match) throw new Error(`not a Kubernetes quantity: ${value}`);
  const unit = match[2] ?? '';
  return Number(match[1]) * (BINARY[unit] ?? DECIMAL[unit]!);
}

/** The anchors GitHub gives a Markdown file's headings. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split('\n')) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    anchors.add(slug);
  }
  return anchors;
}

// ---------------------------------------------------------------------------------------------------------
// Strict field check of Kubernetes objects

/**
 * The JSON schemas of the Kubernetes API allow unknown fields (the API server rejects them at apply
 * time). The TypeScript interfaces of kubernetes-models list every field, so assigning each manifest as
 * an object literal to its interface makes the compiler report misspelt or misplaced fields.
 */
export function unknownKubernetesFields(
  documents: { where: string; typeImport: string; typeName: string; object: Json }[],
): string[] {
  const files = new Map<string, { where: string; text: string }>();
  documents.forEach((document, index) => {
    const text = `import type { ${document.typeName} } from '${document.typeImport}';\nexport const manifest: ${document.typeName} = ${JSON.stringify(document.object, null, 1)};\n`;
    files.set(repoPath('scripts', 'test', `__manifest_${index}.ts`), { where: document.where, text });
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts'],
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const virtual = files.get(path.resolve(fileName));
    return virtual
      ? ts.createSourceFile(fileName, virtual.text, languageVersion, true)
      : getSourceFile.call(host, fileName, languageVersion, ...rest);
  };
  host.fileExists = (fileName) => files.has(path.resolve(fileName)) || fileExists.call(host, fileName);
  host.readFile = (fileName) => files.get(path.resolve(fileName))?.text ?? readFile.call(host, fileName);
  const program = ts.createProgram([...files.keys()], options, host);
  return [...files.entries()].flatMap(([fileName, { where }]) =>
    program
      .getSemanticDiagnostics(program.getSourceFile(fileName))
      .map((diagnostic) => `${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`),
  );
}
