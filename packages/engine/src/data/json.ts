/**
 * JSON read from files a user supplied (model.json): its size and nesting are bounded before it is
 * parsed. JSON.parse itself copes with deep nesting, but whatever walks the value afterwards
 * (JSON.stringify, a database's jsonb) recurses and fails far from the file; here it is refused
 * with the file's name.
 */
import { open } from 'node:fs/promises';
import { DataFileError } from './errors.ts';

export interface JsonLimits {
  /** bytes of the document */
  maxBytes: number;
  /** arrays and objects inside each other */
  maxDepth: number;
}

/** Generous for any model.json (a neuron list of 100 000 numbers is ~700 KB). */
export const JSON_LIMITS: JsonLimits = { maxBytes: 8 * 2 ** 20, maxDepth: 64 };

/** The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** Parses `text` (from `file`) within `limits`; DataFileError with JSON_TOO_LARGE, JSON_TOO_DEEP or a parse error. */
export function parseJsonWithin(text: string, file: string, limits: JsonLimits = JSON_LIMITS): unknown {
  const bytes = Buffer.byteLength(text);
  if (bytes > limits.maxBytes) throw new DataFileError(file, `is ${bytes} bytes of JSON, more than the ${limits.maxBytes} allowed`, { code: 'JSON_TOO_LARGE' });
  const depth = jsonDepth(text);
  if (depth > limits.maxDepth) throw new DataFileError(file, `nests arrays and objects ${depth} deep, more than the ${limits.maxDepth} allowed`, { code: 'JSON_TOO_DEEP' });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataFileError(file, `is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Reads and parses a JSON file within `limits`: a file over the size limit is not read at all. */
export async function readJsonWithin(file: string, limits: JsonLimits = JSON_LIMITS, missing = 'does not exist'): Promise<unknown> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw new DataFileError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? missing : `cannot read: ${(e as Error).message}`, { cause: e });
  }
  try {
    const { size } = await handle.stat();
    if (size > limits.maxBytes) throw new DataFileError(file, `is ${size} bytes of JSON, more than the ${limits.maxBytes} allowed`, { code: 'JSON_TOO_LARGE' });
    return parseJsonWithin(await handle.readFile('utf8'), file, limits);
  } finally {
    await handle.close();
  }
}
