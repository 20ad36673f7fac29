/**
 * Cursor pagination: a cursor is the position of the last item seen (its `seq`, or the columns a
 * list is ordered by), base64url-encoded JSON; a page is the `first` items after it, plus one more
 * to know whether there is a next page.
 */
import { ServiceError } from '../errors.ts';

export interface Page<T> {
  nodes: T[];
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
  totalCount: number;
}

export type Position = (string | number)[];

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** The position in `after`, checked to have the list's shape (`kinds`: 'number' or 'string' per part). */
export function decodeCursor(after: string | null | undefined, kinds: readonly ('number' | 'string')[]): Position | null {
  if (after === null || after === undefined) return null;
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    position = undefined;
  }
  if (!Array.isArray(position) || position.length !== kinds.length || position.some((p, i) => typeof p !== kinds[i])) {
    throw new ServiceError('BAD_USER_INPUT', `after: "${after}" is not a cursor of this list (pass a pageInfo.endCursor)`, { argument: 'after' });
  }
  return position as Position;
}

export function pageSize(first: number | null | undefined, max: number): number {
  const n = first ?? 50;
  if (!Number.isInteger(n) || n < 0 || n > max) throw new ServiceError('BAD_USER_INPUT', `first must be an integer from 0 to ${max}, got ${n}`, { argument: 'first' });
  return n;
}

/** A page from `rows` fetched with limit first + 1. */
export function toPage<T>(rows: T[], first: number, position: (row: T) => Position, totalCount: number): Page<T> {
  const nodes = rows.slice(0, first);
  const last = nodes.at(-1);
  return { nodes, pageInfo: { endCursor: last ? encodeCursor(position(last)) : null, hasNextPage: rows.length > first }, totalCount };
}
