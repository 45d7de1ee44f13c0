import {
  afterCreatedAtCursor,
  createdAtCursorOf,
  decodeCursor,
  encodeCursor,
  isCreatedAtCursor,
  pageSize,
  toConnection,
} from '../src/pagination.ts';
import { DomainError } from '../src/errors.ts';

const isIdCursor = (value: unknown): value is { id: string } =>
  typeof value === 'object' && value !== null && typeof (value as { id: unknown }).id === 'string';

describe('cursor pagination', () => {
  it('round-trips a cursor', () => {
    expect(decodeCursor(encodeCursor({ id: 'p1' }), isIdCursor)).toEqual({ id: 'p1' });
  });

  it.each(['not-base64!!', encodeCursor({ other: 1 }), encodeCursor('x'.repeat(2000))])(
    'rejects a foreign cursor %#',
    (cursor) => {
      expect(() => decodeCursor(cursor, isIdCursor)).toThrow(
        expect.objectContaining({ code: 'BAD_USER_INPUT', details: { field: 'after' } }),
      );
    },
  );

  it('enforces the maximum page size with an error naming the argument', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(100)).toBe(100);
    for (const bad of [0, -1, 101, 2.5]) {
      try {
        pageSize(bad);
        throw new Error('expected a rejection');
      } catch (error) {
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).details).toEqual({ field: 'first' });
      }
    }
  });

  it('uses the extra row only to report a next page', async () => {
    const connection = toConnection(
      [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      2,
      (n) => n.id,
      async () => 3,
    );
    expect(connection.nodes).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(connection.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: 'a', endCursor: 'b' });
    expect(await connection.totalCount()).toBe(3);
  });
});

describe('creation-time cursors', () => {
  const node = { id: 'n1', createdAt: new Date('2030-01-02T03:04:05.678Z') };

  it('round-trips a node position and refuses cursors without a valid time', () => {
    expect(decodeCursor(createdAtCursorOf(node), isCreatedAtCursor)).toEqual({ id: 'n1', createdAt: '2030-01-02T03:04:05.678Z' });
    expect(() => decodeCursor(encodeCursor({ id: 'n1', createdAt: 'yesterday' }), isCreatedAtCursor)).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT' }),
    );
  });

  it('selects the rows after a cursor in either direction', () => {
    const cursor = { id: 'n1', createdAt: node.createdAt.toISOString() };
    expect(afterCreatedAtCursor(null)).toEqual({});
    expect(afterCreatedAtCursor(cursor)).toEqual({
      OR: [{ createdAt: { lt: node.createdAt } }, { createdAt: node.createdAt, id: { gt: 'n1' } }],
    });
    expect(afterCreatedAtCursor(cursor, 'asc').OR?.[0]).toEqual({ createdAt: { gt: node.createdAt } });
  });
});
