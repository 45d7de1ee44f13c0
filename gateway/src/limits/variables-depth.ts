/**
 * A bound on how deep a request's `variables` and `extensions` nest. Deep JSON parses fine (JSON.parse
 * does not recurse on the stack) but every recursive reader after it — cache keys, cost, coercion —
 * overflowed the stack on 10,000 levels and answered 500. Checked iteratively, before any of them runs,
 * on the parsed POST body and on a GET's query-string JSON alike.
 */
import type { RequestHandler } from 'express';
import type { GatewayMetrics } from '../observability/metrics.ts';

/** Whether a parsed JSON value nests objects/arrays deeper than `maxDepth` (`{}` is depth 1). */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** The same for JSON text not parsed yet (a GET's `variables=`): brackets outside strings. */
export function jsonTextNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c /* \ */) i++;
      else if (char === 0x22 /* " */) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b /* { */ || char === 0x5b /* [ */) {
      if (++depth > maxDepth) return true;
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) depth--;
  }
  return false;
}

const NESTED_PARTS = ['variables', 'extensions'] as const;

function tooDeep(operation: unknown, maxDepth: number): boolean {
  if (operation === null || typeof operation !== 'object') return false;
  return NESTED_PARTS.some((part) => {
    const value = (operation as Record<string, unknown>)[part];
    if (typeof value === 'string') return jsonTextNestsDeeperThan(value, maxDepth);
    if (Array.isArray(value))
      return value.some((item) => (typeof item === 'string' ? jsonTextNestsDeeperThan(item, maxDepth) : false));
    return nestsDeeperThan(value, maxDepth);
  });
}

/** Refuses a request whose variables or extensions nest deeper than `maxDepth`: 400 BAD_USER_INPUT. */
export function variablesDepthLimit(maxDepth: number, metrics?: GatewayMetrics): RequestHandler {
  return (req, res, next) => {
    const operations: unknown[] = req.method === 'GET' ? [req.query] : Array.isArray(req.body) ? req.body : [req.body];
    if (!operations.some((operation) => tooDeep(operation, maxDepth))) return next();
    metrics?.limitRejections.inc({ limit: 'variablesDepth' });
    res.status(400).json({
      errors: [
        {
          message: `Variables and extensions may nest at most ${maxDepth} levels deep.`,
          extensions: { code: 'BAD_USER_INPUT', limit: 'variablesDepth', allowed: maxDepth, requestId: req.context?.requestId },
        },
      ],
    });
  };
}
