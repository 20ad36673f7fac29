import { describe, expect, it } from 'vitest';
import { SMALL_UNET, type UNetConfig, unetGraph } from '../models/unet.ts';
import { appendBackward } from '../onnx/autodiff.ts';
import { float32 } from '../onnx/ndarray.ts';
import { serialize } from '../onnx/serialize.ts';
import { Rng } from '../random.ts';
import { needsExternalWeights, serializeExternalWeights, weightBytes } from './external-weights.ts';
import { createSession } from './session.ts';

const CFG: UNetConfig = { ...SMALL_UNET, imageSize: 16, modelChannels: 16, channelMult: [1, 2], attentionResolutions: [8], numHeadChannels: 16, normGroups: 4 };

describe('weights as external data (graphs past protobuf\'s 2 GB)', () => {
  it('keeps the weights out of the model bytes: one in-memory file per weight, views without copies', () => {
    const { graph } = unetGraph(CFG, { seed: 1 });
    const { model, externalData } = serializeExternalWeights(graph);
    const bytes = [...graph.weights.values()].reduce((n, w) => n + w.data!.data.byteLength, 0);
    expect(externalData).toHaveLength(graph.weights.size);
    expect(externalData.reduce((n, f) => n + f.data.byteLength, 0)).toBe(bytes);
    expect(externalData[0].data.buffer).toBe(graph.weights.get('time_embed.0.weight')!.data!.data.buffer);
    // the nodes and a location/offset/length entry per weight
    expect(model.length).toBeLessThan(serialize(graph, { weights: 'inputs' }).length + 80 * graph.weights.size);
    expect(weightBytes(graph)).toBe(bytes);
    expect(needsExternalWeights(graph)).toBe(false);
  });

  it('computes what the baked-in model computes, gradients included, after the arrays are overwritten', async () => {
    const { graph } = unetGraph(CFG, { seed: 1 });
    appendBackward(graph, { outputs: ['eps'], wrt: ['x'] });
    const rng = new Rng(2);
    const feeds = { x: float32([2, 1, 16, 16], rng.normals(512)), t: float32([2], [10, 990]), eps_seed: float32([2, 1, 16, 16], rng.normals(512)) };
    const baked = await createSession(graph);
    const expected = await baked.run(feeds);
    await baked.release();
    const external = await createSession(graph, { weights: 'external' });
    // onnxruntime copied the external data while creating the session
    for (const w of graph.weights.values()) (w.data!.data as Float32Array).fill(Number.NaN);
    try {
      const got = await external.run(feeds);
      for (const name of ['eps', 'v', 'x_grad']) {
        const a = got[name].data as Float32Array;
        const b = expected[name].data as Float32Array;
        let err = 0;
        let scale = 0;
        for (let i = 0; i < b.length; i++) {
          err = Math.max(err, Math.abs(a[i] - b[i]));
          scale = Math.max(scale, Math.abs(b[i]));
        }
        expect(err / scale).toBeLessThan(1e-5);
      }
      await expect(external.run({ x: feeds.x, eps_seed: feeds.eps_seed } as never)).rejects.toThrow(/missing feed "t"/);
    } finally {
      await external.release();
    }
  });
});
