/**
 * What the client commands (runs, images, models) share: the service's address and token
 * (--url/--token or EXCITE_URL/EXCITE_TOKEN) and an SDK client that is closed when the command
 * ends; a refusal's code is printed with its message.
 */
import { Command, Option } from 'commander';
import WebSocket from 'ws';
import { type ExciteClient, createClient, isExciteError } from '@excite/sdk';

export const DEFAULT_URL = 'http://localhost:4000/graphql';

export interface ConnectionOptions {
  url: string;
  token?: string;
}

/** A subcommand that talks to a running service. */
export function clientCommand(name: string): Command {
  return new Command(name)
    .addOption(new Option('--url <url>', 'the service’s GraphQL endpoint').env('EXCITE_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'a bearer token (excite serve prints an admin token on its first start)').env('EXCITE_TOKEN'));
}

/** Runs `body` with a client of the service, closed afterwards; ExciteErrors read "CODE: message". */
export async function withClient<T>(o: ConnectionOptions, body: (client: ExciteClient) => Promise<T>): Promise<T> {
  const client = createClient({ url: o.url, token: o.token || undefined, webSocketImpl: WebSocket });
  try {
    return await body(client);
  } catch (e) {
    if (isExciteError(e)) throw new Error(`${e.code}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    await client.close();
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isId = (value: string): boolean => UUID.test(value);

/** Integers as written: `0,1,5-7`. */
export function integerList(spec: string, what: string): number[] {
  const out: number[] = [];
  for (const term of spec.split(',').map((t) => t.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(term);
    if (!m) throw new Error(`${what}: "${term}" is not a number or a range A-B`);
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (b < a) throw new Error(`${what}: the range ${term} is empty`);
    for (let k = a; k <= b; k++) out.push(k);
  }
  if (out.length === 0) throw new Error(`${what}: none given`);
  return out;
}

/** A model, dataset or other object named by its id or by its name (which must be unique). */
export async function byIdOrName<T extends { id: string; name: string }>(value: string, what: string, all: () => AsyncIterable<T>): Promise<string> {
  if (isId(value)) return value;
  const matches: T[] = [];
  for await (const item of all()) if (item.name === value) matches.push(item);
  if (matches.length === 0) throw new Error(`no ${what} named "${value}"`);
  if (matches.length > 1) throw new Error(`${matches.length} ${what}s are named "${value}": give an id (${matches.map((m) => m.id).join(', ')})`);
  return matches[0].id;
}
