import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type NdArray, float32, float64, fromNumbers, int64, ndarray } from '../onnx/ndarray.ts';
import { V4_DATA, v4Title } from '../testing/v4-data.ts';
import { MAX_HEADER_BYTES, decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from './safetensors.ts';

/** A file from a header (an object to JSON-encode, or raw text) and data; `claimed` overrides the length field. */
function craft(header: unknown, data: Uint8Array = new Uint8Array(), claimed?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(claimed ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function sameArray(a: NdArray | undefined, b: NdArray): void {
  expect(a?.dtype).toBe(b.dtype);
  expect(a?.shape).toEqual(b.shape);
  expect(Array.from(a!.data as ArrayLike<unknown>)).toEqual(Array.from(b.data as ArrayLike<unknown>));
}

describe('safetensors round trip', () => {
  const tensors = new Map<string, NdArray>([
    ['bias', float32([3], [0.5, -1, 2])],
    ['kernel', float64([2, 2], [1, 2, 3, Math.PI])],
    ['half', fromNumbers('float16', [2], [1.5, -0.25])],
    ['step', int64([], [42])],
    ['labels', ndarray('int32', [2, 1], Int32Array.from([7, -8]))],
    ['mask', ndarray('bool', [3], Uint8Array.from([1, 0, 1]))],
    ['empty', float32([0, 4])],
  ]);

  it('keeps every tensor and the metadata', () => {
    const bytes = encodeSafetensors(tensors, { format: 'pt', note: 'round trip' });
    const { tensors: back, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt', note: 'round trip' });
    expect([...back.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, t] of tensors) sameArray(back.get(name), t);
  });

  it('aligns the data to 8 bytes and each tensor to its element size', () => {
    const bytes = encodeSafetensors(tensors);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__).toBeUndefined();
    const sizes: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BOOL: 1 };
    for (const { dtype, data_offsets: [begin] } of Object.values(header) as { dtype: string; data_offsets: number[] }[]) expect(begin % sizes[dtype]).toBe(0);
  });

  it('writes and reads files', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'excite-st-')), 'weights.safetensors');
    await writeSafetensors(file, tensors, { epoch: '3' });
    const { tensors: back, metadata } = await readSafetensors(file);
    expect(metadata).toEqual({ epoch: '3' });
    sameArray(back.get('kernel'), tensors.get('kernel')!);
  });

  it('reads bfloat16 widened to float32', () => {
    const bits = Uint16Array.from([0x3fc0, 0xc000]); // 1.5, -2
    const { tensors: t } = decodeSafetensors(craft({ w: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(bits.buffer)));
    sameArray(t.get('w'), float32([2], [1.5, -2]));
  });

  it('refuses tensors it cannot write', () => {
    expect(() => encodeSafetensors(new Map([['__metadata__', float32([1], [1])]]))).toThrow(/reserved/);
  });
});

describe('corrupt safetensors files', () => {
  const data = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than the length field', new Uint8Array(5), /too short/],
    ['a header past the end', craft({}, new Uint8Array(), 4096), /only \d+ follow \(truncated\?\)/],
    ['a header over the limit', craft({}, new Uint8Array(), MAX_HEADER_BYTES + 1), /more than the 100000000 allowed/],
    ['a header that is not JSON', craft('{"a": {'), /not valid JSON/],
    ['a header that is not an object', craft('[1, 2]'), /does not start with "\{"/],
    ['an unknown dtype', craft({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /dtype C64, which is not supported/],
    ['no dtype', craft({ a: { shape: [1], data_offsets: [0, 4] } }, data.subarray(0, 4)), /"a" has no dtype/],
    ['a negative dimension', craft({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, data), /invalid shape/],
    ['offsets past the data', craft({ a: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } }, data), /outside the 16 data bytes \(truncated\?\)/],
    ['reversed offsets', craft({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, data), /outside/],
    ['a shape that does not fit the bytes', craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, data), /has 16 bytes, its shape \[3\] of F32 needs 12/],
    [
      'overlapping tensors',
      craft(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        data.subarray(0, 12),
      ),
      /"b" at bytes \[4, 12\) overlaps/,
    ],
    ['a hole between tensors', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data.subarray(0, 8)), /bytes \[0, 4\) belong to no tensor/],
    ['trailing bytes', craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data), /bytes \[8, 16\) belong to no tensor/],
    ['metadata that is not a string table', craft({ __metadata__: { epoch: 3 } }), /__metadata__.epoch is not a string/],
  ];

  it.each(cases)('rejects %s, naming the file', (_what, bytes, problem) => {
    expect(() => decodeSafetensors(bytes, 'bad.safetensors')).toThrow(problem);
    expect(() => decodeSafetensors(bytes, 'bad.safetensors')).toThrow(/^bad\.safetensors: /);
  });

  it('names a truncated file on disk', async () => {
    const good = encodeSafetensors(new Map([['w', float32([16], new Float32Array(16).fill(1))]]));
    const file = join(await mkdtemp(join(tmpdir(), 'excite-st-')), 'cut.safetensors');
    await writeFile(file, good.subarray(0, good.length - 10));
    await expect(readSafetensors(file)).rejects.toThrow(`${file}: tensor "w" has data_offsets [0, 64] outside the 54 data bytes (truncated?)`);
    await expect(readSafetensors(join(file, 'missing'))).rejects.toThrow(/cannot read/);
  });
});

describe.skipIf(!V4_DATA)(v4Title('a published compact model'), () => {
  it('reads Keras layouts and metadata', async () => {
    const { tensors, metadata } = await readSafetensors(join(V4_DATA!, 'compact/201025/neuron0.safetensors'));
    expect(tensors.get('conv0.kernel')?.shape).toEqual([5, 5, 3, 47]);
    expect(tensors.get('dense.kernel')?.dtype).toBe('float32');
    expect(metadata).toMatchObject({ session: '201025', neuron: '0', bn_eps: '0.001' });
  });
});
