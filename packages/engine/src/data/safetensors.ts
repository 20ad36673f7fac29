/**
 * safetensors files: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {key: string}}` (optionally
 * padded with spaces), then the tensors' little-endian bytes, offsets relative to the end of the
 * header, covering that buffer without holes or overlaps.
 *
 * Written here rather than taken from npm: the package named `safetensors` (0.0.1) is an
 * abandoned placeholder, and @huggingface/hub only parses headers of files on the Hub over HTTP;
 * nothing maintained reads and writes local files. The checks follow the reference implementation
 * (huggingface/safetensors): header at most 100 MB, offsets inside the buffer, contiguous, each
 * tensor's byte length equal to its shape times its element size.
 */
import { endianness } from 'node:os';
import { open, writeFile } from 'node:fs/promises';
import { type DType, type NdArray, ndarray } from '../onnx/ndarray.ts';
import { size } from '../onnx/shape.ts';
import { DataFileError } from './errors.ts';

export interface Safetensors {
  tensors: Map<string, NdArray>;
  /** the `__metadata__` table (string values only, per the format) */
  metadata: Record<string, string>;
}

/** The reference implementation's limit, which guards against absurd allocations. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** safetensors dtype names of the dtypes NdArray holds, and their element sizes in bytes. */
const DTYPES: Record<string, { dtype: DType; bytes: number }> = {
  F64: { dtype: 'float64', bytes: 8 },
  F32: { dtype: 'float32', bytes: 4 },
  F16: { dtype: 'float16', bytes: 2 },
  I64: { dtype: 'int64', bytes: 8 },
  I32: { dtype: 'int32', bytes: 4 },
  BOOL: { dtype: 'bool', bytes: 1 },
};
const NAME_OF = new Map(Object.entries(DTYPES).map(([name, { dtype }]) => [dtype, name]));
/** bfloat16 is read widened to float32 (exact: it is float32's upper half); it is never written. */
const BF16 = 'BF16';

function assertLittleEndianHost(): void {
  // typed arrays use the host's byte order; every platform onnxruntime-node ships for is LE
  if (endianness() !== 'LE') throw new Error('safetensors: big-endian hosts are not supported');
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function parseHeader(json: string, dataBytes: number, fail: (problem: string) => never): { entries: Entry[]; metadata: Record<string, string> } {
  if (!json.startsWith('{')) fail('the header does not start with "{" (not a safetensors file?)');
  let header: unknown;
  try {
    header = JSON.parse(json);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`${METADATA_KEY} is not an object`);
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`${METADATA_KEY}.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') fail(`tensor "${name}" has no dtype`);
    if (!DTYPES[dtype] && dtype !== BF16) fail(`tensor "${name}" has dtype ${dtype}, which is not supported (${[...Object.keys(DTYPES), BF16].join(', ')})`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin || end > dataBytes) fail(`tensor "${name}" has data_offsets [${begin}, ${end}] outside the ${dataBytes} data bytes (truncated?)`);
    const expected = size(shape) * (dtype === BF16 ? 2 : DTYPES[dtype].bytes);
    if (end - begin !== expected) fail(`tensor "${name}" has ${end - begin} bytes, its shape [${shape}] of ${dtype} needs ${expected}`);
    entries.push({ name, dtype, shape, begin, end });
  }
  // the tensors must tile the data buffer: sorted by offset, each starts where the previous ended
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) fail(`tensor "${e.name}" at bytes [${e.begin}, ${e.end}) overlaps the tensor before it (which ends at ${at})`);
    if (e.begin > at) fail(`data bytes [${at}, ${e.begin}) belong to no tensor`);
    at = e.end;
  }
  if (at !== dataBytes) fail(`data bytes [${at}, ${dataBytes}) belong to no tensor`);
  return { entries, metadata };
}

function bf16ToFloat32(bytes: Uint8Array): Float32Array {
  const halves = new Uint16Array(bytes.slice().buffer);
  const bits = new Uint32Array(halves.length);
  for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
  return new Float32Array(bits.buffer);
}

function tensorOf(e: Entry, bytes: Uint8Array): NdArray {
  if (e.dtype === BF16) return ndarray('float32', e.shape, bf16ToFloat32(bytes));
  const { dtype } = DTYPES[e.dtype];
  // a copy: aligned for the typed array whatever the offset, and independent of the file buffer
  const buffer = bytes.slice().buffer;
  switch (dtype) {
    case 'float64':
      return ndarray(dtype, e.shape, new Float64Array(buffer));
    case 'float32':
      return ndarray(dtype, e.shape, new Float32Array(buffer));
    case 'float16':
      return ndarray(dtype, e.shape, new Uint16Array(buffer));
    case 'int64':
      return ndarray(dtype, e.shape, new BigInt64Array(buffer));
    case 'int32':
      return ndarray(dtype, e.shape, new Int32Array(buffer));
    case 'bool':
      return ndarray(dtype, e.shape, new Uint8Array(buffer));
  }
}

/** Parses the bytes of a safetensors file; `file` names it in errors. */
export function decodeSafetensors(input: Uint8Array, file = '<safetensors bytes>'): Safetensors {
  assertLittleEndianHost();
  const fail: (problem: string) => never = (problem) => {
    throw new DataFileError(file, problem);
  };
  // a plain view: Buffer's slice() would share memory where tensorOf needs a copy
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for a safetensors file (truncated?)`);
  const headerBytes = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerBytes > BigInt(MAX_HEADER_BYTES)) fail(`the header claims ${headerBytes} bytes, more than the ${MAX_HEADER_BYTES} allowed`);
  const n = Number(headerBytes);
  if (8 + n > bytes.length) fail(`the header claims ${n} bytes, but only ${bytes.length - 8} follow (truncated?)`);
  let json: string;
  try {
    json = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('the header is not valid UTF-8');
  }
  const data = bytes.subarray(8 + n);
  const { entries, metadata } = parseHeader(json.trimEnd(), data.length, fail);
  const tensors = new Map<string, NdArray>();
  for (const e of entries) tensors.set(e.name, tensorOf(e, data.subarray(e.begin, e.end)));
  return { tensors, metadata };
}

/** Reads a whole file in chunks: readFile refuses files over 2 GiB (ADM-256 in float32 is 2.21 GB). */
async function readWhole(file: string): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw new DataFileError(file, `cannot read: ${(e as Error).message}`, { cause: e });
  }
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(2 ** 30, size - at), at);
      if (bytesRead === 0) throw new DataFileError(file, `ended after ${at} of ${size} bytes while reading`);
      at += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

export async function readSafetensors(file: string): Promise<Safetensors> {
  return decodeSafetensors(await readWhole(file), file);
}

/**
 * Encodes tensors and metadata. Tensors are laid out by decreasing element size (then in the
 * map's order), as the reference writer does, so that every tensor is aligned to its element.
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, NdArray>, metadata: Record<string, string> = {}): Uint8Array {
  assertLittleEndianHost();
  const items = [...tensors].map(([name, t]) => {
    const dtype = NAME_OF.get(t.dtype);
    if (!dtype) throw new Error(`safetensors: tensor "${name}" has dtype ${t.dtype}, which cannot be written`);
    if (name === METADATA_KEY) throw new Error(`safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    const n = size(t.shape);
    if (t.data.length !== n) throw new Error(`safetensors: tensor "${name}" has ${t.data.length} elements, its shape [${t.shape}] needs ${n}`);
    return { name, t, dtype, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
  });
  items.sort((a, b) => DTYPES[b.dtype].bytes - DTYPES[a.dtype].bytes); // stable: map order within a size
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const { name, t, dtype, bytes } of items) {
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // pad with spaces so the data starts 8-byte aligned in the file
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const { bytes } of items) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

export async function writeSafetensors(file: string, tensors: ReadonlyMap<string, NdArray>, metadata: Record<string, string> = {}): Promise<void> {
  await writeFile(file, encodeSafetensors(tensors, metadata));
}
