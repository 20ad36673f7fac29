/**
 * Tiny models and images for the service's tests, written as the folders users upload: an
 * ensemble of two attention encoders and a single encoder (12x12 inputs, session "s1" with
 * neurons 0, 1, 2), an 8x8 ADM prior, a compact ground-truth folder for s1's neurons 1 and 2 (a
 * few channels), and an image set. Each builds in milliseconds and synthesizes in well under a second.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { Graph, type NdArray, Rng, buildEncoder, encodeSafetensors, float32, unetGraph, writeEncoder, writeEnsemble, writePrior } from '@excite/engine';
import { TINY_ENCODER_SPEC, TINY_UNET } from '@excite/engine/testing';

function encoderWeights(seed: number): Map<string, NdArray> {
  const g = new Graph();
  const { height, width } = TINY_ENCODER_SPEC.input;
  buildEncoder(g, g.input('image', 'float32', ['batch', 1, height, width]), TINY_ENCODER_SPEC, { seed });
  return new Map([...g.weights].map(([k, v]) => [k, v.data!]));
}

export async function writeTinyEnsemble(dir: string, seeds = [1, 2]): Promise<void> {
  await Promise.all(seeds.map((seed, i) => writeEncoder(join(dir, `member-${i}`), TINY_ENCODER_SPEC, encoderWeights(seed), { name: `member-${i}`, metrics: { validation: { s1: { median_r: 0.5 } } } })));
  await writeEnsemble(
    dir,
    seeds.map((_, i) => `member-${i}`),
    { name: 'tiny-ensemble', training: { seeds } },
  );
}

export async function writeTinyEncoder(dir: string, seed = 3): Promise<void> {
  await writeEncoder(dir, TINY_ENCODER_SPEC, encoderWeights(seed), { name: 'tiny-encoder' });
}

export async function writeTinyPrior(dir: string, seed = 2): Promise<void> {
  // an epsilon-only UNet (fixed variance): the demo prior's kind
  const config = { ...TINY_UNET, learnSigma: false };
  const { graph, parameters } = unetGraph(config, { seed });
  await writePrior(dir, config, new Map(parameters.trainable.map((n) => [n, graph.weights.get(n)!.data!])), { name: 'tiny-prior' });
}

/**
 * A compact model's Keras tensors with 2 channels per layer (conv0, four separable layers, dense).
 * `gain` > 0 makes a neuron whose rate varies with the image (batch-norm scales of 1, weights of
 * standard deviation `gain`, a dense layer around 5), as a brain for simulated recordings (with a
 * gain of 0.3 its rates run from about 3 to 5); 0: weights of 0.1, a nearly constant rate.
 */
export function compactNeuronBytes(seed: number, gain = 0): Uint8Array {
  const rng = new Rng(seed);
  const tensors = new Map<string, NdArray>();
  const put = (name: string, shape: number[], values?: Float32Array) => tensors.set(name, float32(shape, values ?? rng.normals(shape.reduce((a, b) => a * b, 1), gain || 0.1)));
  const bn = (layer: number, c: number) => {
    for (const t of ['gamma', 'beta', 'mean']) put(`bn${layer}.${t}`, [c], gain && t === 'gamma' ? new Float32Array(c).fill(1) : undefined);
    put(`bn${layer}.var`, [c], new Float32Array(c).fill(1));
  };
  const c = 2;
  put('conv0.kernel', [5, 5, 3, c]);
  put('conv0.bias', [c]);
  bn(0, c);
  for (let layer = 1; layer <= 4; layer++) {
    put(`sep${layer}.depthwise`, [5, 5, c, 1]);
    put(`sep${layer}.pointwise`, [1, 1, c, c]);
    put(`sep${layer}.bias`, [c]);
    bn(layer, c);
  }
  put('dense.kernel', [28 * 28 * c, 1], gain ? rng.normals(28 * 28 * c, 0.02) : undefined);
  put('dense.bias', [1], new Float32Array([gain ? 5 : 1]));
  return encodeSafetensors(tensors);
}

export async function writeTinyCompact(dir: string, neurons = [1, 2], gain = 0): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(neurons.map((n) => writeFile(join(dir, `neuron${n}.safetensors`), compactNeuronBytes(10 + n, gain))));
}

/** `count` random 16x16 PNG images (gray noise with a bright square at a different place each). */
export async function writeImages(dir: string, count = 6): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const rng = new Rng(7);
  const names: string[] = [];
  for (let k = 0; k < count; k++) {
    const pixels = Buffer.from(Array.from(rng.normals(16 * 16, 30), (v) => Math.max(0, Math.min(255, Math.round(100 + v)))));
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) pixels[((k * 2 + y) % 16) * 16 + ((k * 3 + x) % 16)] = 250;
    const name = `img${k}.png`;
    await sharp(pixels, { raw: { width: 16, height: 16, channels: 1 } }).png().toFile(join(dir, name));
    names.push(name);
  }
  return names;
}

/**
 * The whole set in one folder, as the service's suites upload it: `tiny-ensemble`,
 * `tiny-encoder`, `tiny-prior`, `s1` (the compact folder) and `images`.
 */
export async function writeFixtureFolders(dir: string): Promise<void> {
  await Promise.all([
    writeTinyEnsemble(join(dir, 'tiny-ensemble')),
    writeTinyEncoder(join(dir, 'tiny-encoder')),
    writeTinyPrior(join(dir, 'tiny-prior')),
    writeTinyCompact(join(dir, 's1')),
    writeImages(join(dir, 'images')),
  ]);
}
