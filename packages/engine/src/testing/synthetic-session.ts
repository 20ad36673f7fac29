/**
 * A synthetic recording session in the dataset-directory format, for tests that need a session
 * no code has seen: smooth random images (JPEG in a zip) and Poisson responses of
 * linear-nonlinear neurons with Gabor receptive fields at known positions.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { encodeNpy } from '../data/npy.ts';
import { float32 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';

export interface SyntheticSession {
  dir: string;
  /** the neurons' noiseless rates [neurons, images] */
  rates: Float32Array;
}

function smoothNoise(rng: Rng, size: number): Float32Array {
  // sum of a few random low-frequency gratings and blobs: natural-ish 1/f content
  const img = new Float32Array(size * size).fill(128);
  for (let k = 0; k < 12; k++) {
    const f = 0.5 + rng.uniform() * 6;
    const theta = rng.uniform() * Math.PI;
    const phase = rng.uniform() * 2 * Math.PI;
    const amp = (40 / f) * (0.5 + rng.uniform());
    const [c, s] = [Math.cos(theta), Math.sin(theta)];
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) img[y * size + x] += amp * Math.sin(((2 * Math.PI * f) / size) * (c * x + s * y) + phase);
  }
  return img.map((v) => Math.min(255, Math.max(0, v)));
}

export async function writeSyntheticSession(dir: string, options: { images: number; neurons: number; seed: number; size?: number }): Promise<SyntheticSession> {
  const size = options.size ?? 112;
  const rng = new Rng(options.seed);
  const images = Array.from({ length: options.images }, () => smoothNoise(rng, size));
  // Gabor receptive fields near the center, different orientations and frequencies
  const fields = Array.from({ length: options.neurons }, () => {
    const cx = size * (0.35 + 0.3 * rng.uniform());
    const cy = size * (0.35 + 0.3 * rng.uniform());
    const sigma = size * (0.08 + 0.06 * rng.uniform());
    const theta = rng.uniform() * Math.PI;
    const f = 1.5 / sigma;
    const rf = new Float32Array(size * size);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const [dx, dy] = [x - cx, y - cy];
        rf[y * size + x] = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)) * Math.cos(f * (dx * Math.cos(theta) + dy * Math.sin(theta)));
      }
    const norm = Math.sqrt(rf.reduce((s, v) => s + v * v, 0));
    return rf.map((v) => v / norm);
  });
  const rates = new Float32Array(options.neurons * options.images);
  const counts = new Float32Array(options.neurons * options.images);
  fields.forEach((rf, n) =>
    images.forEach((img, i) => {
      let drive = 0;
      for (let p = 0; p < img.length; p++) drive += rf[p] * (img[p] - 128);
      const rate = 4 * Math.log1p(Math.exp(drive / 150)); // softplus LN neuron, a few spikes per image
      rates[n * options.images + i] = rate;
      // Poisson sample by inversion
      let k = 0;
      let p = Math.exp(-rate);
      let cdf = p;
      const u = rng.uniform();
      while (u > cdf && k < 200) {
        k++;
        p *= rate / k;
        cdf += p;
      }
      counts[n * options.images + i] = k;
    }),
  );
  const entries: Record<string, Uint8Array> = {};
  for (const [i, img] of images.entries()) {
    const rgb = Buffer.alloc(size * size * 3);
    img.forEach((v, p) => rgb.fill(Math.round(v), 3 * p, 3 * p + 3));
    entries[`images/image${String(i + 1).padStart(4, '0')}.jpg`] = await sharp(rgb, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'images.zip'), zipSync(entries, { level: 0 }));
  await writeFile(join(dir, 'responses.npy'), encodeNpy(float32([options.neurons, options.images], counts)));
  return { dir, rates };
}
