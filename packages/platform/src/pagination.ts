import { badInput } from './errors.ts';

/** Relay cursor connections, shared by every list in the graph. */
export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<Node> {
  edges: { cursor: string; node: Node }[];
  nodes: Node[];
  pageInfo: PageInfo;
  /** A function so the count query only runs when a client selects `totalCount`. */
  totalCount: () => Promise<number>;
}

export interface PageLimits {
  defaultSize: number;
  maxSize: number;
}

export const DEFAULT_PAGE_LIMITS: PageLimits = { defaultSize: 20, maxSize: 100 };

export function pageSize(first: number | null | undefined, limits: PageLimits = DEFAULT_PAGE_LIMITS): number {
  if (first === null || first === undefined) return limits.defaultSize;
  if (!Number.isInteger(first) || first < 1 || first > limits.maxSize) {
    throw badInput('first', `first must be between 1 and ${limits.maxSize}`);
  }
  return first;
}

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Decodes an opaque cursor; a tampered or foreign cursor is bad input, never a crash. */
export function decodeCursor<T>(cursor: string, isValid: (value: unknown) => value is T): T {
  try {
    if (cursor.length > 1024) throw new Error('too long');
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isValid(value)) return value;
  } catch {
    // fall through to the uniform error below
  }
  throw badInput('after', 'after is not a valid cursor');
}

/**
 * Builds a connection from `size + 1` fetched rows: the extra row only tells whether a next page exists.
 */
export function toConnection<Node>(
  rows: Node[],
  size: number,
  cursorOf: (node: Node) => string,
  totalCount: () => Promise<number>,
  hasPreviousPage = false,
): Connection<Node> {
  const nodes = rows.slice(0, size);
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    nodes,
    pageInfo: {
      hasNextPage: rows.length > size,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}

/** Position in a list ordered by creation time with the id breaking ties (the order most lists use). */
export interface CreatedAtCursor {
  createdAt: string;
  id: string;
}

export const isCreatedAtCursor = (value: unknown): value is CreatedAtCursor =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as CreatedAtCursor).id === 'string' &&
  typeof (value as CreatedAtCursor).createdAt === 'string' &&
  !Number.isNaN(Date.parse((value as CreatedAtCursor).createdAt));

export const createdAtCursorOf = (node: { createdAt: Date; id: string }): string =>
  encodeCursor({ createdAt: node.createdAt.toISOString(), id: node.id });

/**
 * The Prisma `where` fragment selecting rows after `cursor` in (createdAt `direction`, id asc) order;
 * `{}` without a cursor. Spread it into a query's `where`.
 */
export function afterCreatedAtCursor(
  cursor: CreatedAtCursor | null,
  direction: 'asc' | 'desc' = 'desc',
): { OR?: ({ createdAt: { lt: Date } | { gt: Date } } | { createdAt: Date; id: { gt: string } })[] } {
  if (!cursor) return {};
  const at = new Date(cursor.createdAt);
  return { OR: [{ createdAt: direction === 'desc' ? { lt: at } : { gt: at } }, { createdAt: at, id: { gt: cursor.id } }] };
}
