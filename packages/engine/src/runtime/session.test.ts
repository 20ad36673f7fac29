import { describe, expect, it } from 'vitest';
import { Graph } from '../onnx/graph.ts';
import { float32, int64 } from '../onnx/ndarray.ts';
import { appendBackward } from '../onnx/autodiff.ts';
import { evaluate } from '../onnx/evaluate.ts';
import { conv } from '../onnx/ops/conv.ts';
import { add, elu, mul } from '../onnx/ops/elementwise.ts';
import { reduceSum } from '../onnx/ops/reduce.ts';
import { DeviceError, deviceFromEnv, parseDevice, unetPrecisionFromEnv } from './device.ts';
import { SessionCache, createSession } from './session.ts';

function affine() {
  const g = new Graph('affine');
  const x = g.input('x', 'float32', ['batch', 3]);
  g.output(add(mul(x, g.weight('scale', float32([3], [1, 2, 3]))), 1), 'y');
  return g;
}

describe('devices', () => {
  it('defaults to the CPU and rejects unknown names', () => {
    expect(deviceFromEnv({})).toBe('cpu');
    expect(parseDevice('WebGPU')).toBe('webgpu');
    expect(() => parseDevice('tpu')).toThrow(/EXCITE_DEVICE="tpu" is not one of cpu, webgpu, cuda/);
  });

  it('reads the UNet precision from EXCITE_UNET_PRECISION', () => {
    expect(unetPrecisionFromEnv({})).toBe('float32');
    expect(unetPrecisionFromEnv({ EXCITE_UNET_PRECISION: 'FP16' })).toBe('float16');
    expect(unetPrecisionFromEnv({ EXCITE_UNET_PRECISION: 'float32' })).toBe('float32');
    expect(() => unetPrecisionFromEnv({ EXCITE_UNET_PRECISION: 'bf16' })).toThrow(/EXCITE_UNET_PRECISION="bf16" is not float32 or float16/);
  });

  it('names the missing CUDA provider and how to install it', async () => {
    const err = await createSession(affine(), {}, { device: 'cuda' }).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect(err.message).toMatch(/EXCITE_DEVICE=cuda: the cuda execution provider could not be started/);
    expect(err.message).toMatch(/onnxruntime-node-install=cuda12/);
  });
});

describe('sessions', () => {
  it('runs a graph with its backward with all optimizations, as the reference evaluator computes it', async () => {
    const g = new Graph('tiny');
    const x = g.input('image', 'float32', ['batch', 1, 8, 8]);
    const w = g.weight('conv.weight', float32([2, 1, 3, 3], Array.from({ length: 18 }, (_, i) => Math.sin(i))));
    g.output(reduceSum(elu(conv(x, w, undefined, { strides: [2, 2], pads: [1, 1, 1, 1] }), 0.5), [2, 3], false), 'rates');
    appendBackward(g, { outputs: ['rates'], wrt: ['image', 'conv.weight'] });
    const image = float32([3, 1, 8, 8], Array.from({ length: 192 }, (_, i) => Math.cos(i / 7)));
    const seed = float32([3, 2], [1, -1, 0.5, 2, 0, 1]);
    const session = await createSession(g, { weights: 'inputs' }, { device: 'cpu', optimization: 'all' });
    const out = await session.run({ image, rates_seed: seed, 'conv.weight': g.weights.get('conv.weight')!.data! });
    const ref = evaluate(g, { image, rates_seed: seed });
    for (const name of ['rates', 'image_grad', 'conv.weight_grad']) {
      const a = ref[name].data;
      const b = out[name].data as Float32Array;
      expect(b.length).toBe(a.length);
      a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 4));
    }
    await session.release();
  });

  it('runs with baked-in weights and with fed weights', async () => {
    const g = affine();
    const x = float32([2, 3], [1, 1, 1, 2, 2, 2]);
    const baked = await createSession(g);
    expect(Array.from((await baked.run({ x })).y.data as Float32Array)).toEqual([2, 3, 4, 3, 5, 7]);
    const fed = await createSession(g, { weights: 'inputs' });
    expect(fed.inputNames).toEqual(['x', 'scale']);
    const y = await fed.run({ x, scale: float32([3], [0, 0, 1]) });
    expect(Array.from(y.y.data as Float32Array)).toEqual([1, 1, 2, 1, 1, 3]);
  });

  it('refuses feeds of the wrong type, shape or name with a clear message', async () => {
    const s = await createSession(affine());
    await expect(s.run({})).rejects.toThrow(/missing feed "x"/);
    await expect(s.run({ x: int64([1, 3], [1, 2, 3]) })).rejects.toThrow(/feed "x" is int64, the model expects float32/);
    await expect(s.run({ x: float32([2, 4]) })).rejects.toThrow(/feed "x": expected shape \[batch,3\], got \[2,4\]/);
  });

  it('caches one session per model, device and options', async () => {
    const cache = new SessionCache();
    const a = await cache.forGraph(affine());
    const b = await cache.forGraph(affine());
    expect(a).toBe(b);
    await cache.forGraph(affine(), { weights: 'inputs' });
    expect(cache.size).toBe(2);
    await cache.clear();
    expect(cache.size).toBe(0);
  });

  it('keys sessions by the weights\' content, not by the arrays that hold them', async () => {
    const cache = new SessionCache();
    const g = affine();
    const first = await cache.forGraph(g);
    // the same values in new arrays: the same session
    expect(await cache.forGraph(affine())).toBe(first);
    // one weight changed: another session, which computes with the new value
    const changed = new Graph('affine');
    const x = changed.input('x', 'float32', ['batch', 3]);
    changed.output(add(mul(x, changed.weight('scale', float32([3], [1, 2, 4]))), 1), 'y');
    const other = await cache.forGraph(changed);
    expect(other).not.toBe(first);
    expect(Array.from((await other.run({ x: float32([1, 3], [1, 1, 1]) })).y.data as Float32Array)).toEqual([2, 3, 5]);
    // another device option is another session
    expect(await cache.forGraph(g, {}, { threads: 1 })).not.toBe(first);
    expect(cache.size).toBe(3);
    await cache.clear();
  });

  it('releases the least recently used session beyond its capacity', async () => {
    const cache = new SessionCache({ capacity: 2 });
    const graphOf = (k: number) => {
      const g = new Graph(`g${k}`);
      g.output(mul(g.input('x', 'float32', ['batch', 3]), k), 'y');
      return g;
    };
    const one = await cache.forGraph(graphOf(1));
    const two = await cache.forGraph(graphOf(2));
    expect(await cache.forGraph(graphOf(1))).toBe(one); // 1 is now the most recent
    await cache.forGraph(graphOf(3)); // evicts 2
    expect(cache.size).toBe(2);
    expect(await cache.forGraph(graphOf(1))).toBe(one);
    await expect(two.run({ x: float32([1, 3], [1, 1, 1]) })).rejects.toThrow();
    expect(await cache.forGraph(graphOf(2))).not.toBe(two);
    await cache.clear();
  });
});
