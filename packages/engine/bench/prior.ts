/**
 * `npm run bench:prior`: how natural a diffusion prior's unguided samples are, and whether it
 * copies its training images.
 *
 * - Fréchet distance (as FID, squared) in the feature space of a trained encoder core (member 0
 *   of models/demo/attention-train): per channel, the spatial mean and spatial standard deviation
 *   of the core's feature map, so that texture statistics count. Held-out natural images (test
 *   sessions 201025 and 210225, images 600..1199, which the prior never saw) are split at random
 *   into halves A and B; samples, n images of half A (the floor) and n Gaussian noise images with
 *   the held-out pixel mean and std (a bad prior) are each compared with half B, so that all three
 *   distances use the same set sizes.
 * - Nearest-training-image distance: for each sample, the smallest L2 distance (prior space, prior
 *   size) to the prior's training images, against the same distance for the held-out images
 *   (those identical to a training image left out). A prior that copies has samples much nearer.
 * - The fraction of almost black samples (>= 90 % of pixels below -0.9) and the pixel mean/std.
 *
 * Env BENCH_SAMPLES (default 256), BENCH_STEPS (default 100); seed 1. `--prior DIR` measures
 * another prior folder, `--encoder DIR` another feature core, `--json` prints the figures as JSON.
 */
import os from 'node:os';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImageArchive } from '../src/data/image-archive.ts';
import { resizeBilinear } from '../src/data/images.ts';
import { standardize, toModelGeometry } from '../src/data/stimuli.ts';
import { loadPrior, pixelsToPrior } from '../src/diffusion/prior.ts';
import { samplePrior } from '../src/diffusion/sample-prior.ts';
import { loadPriorImages } from '../src/diffusion/train-prior.ts';
import { median } from '../src/evaluate/correlation.ts';
import { frechetDistanceOf } from '../src/evaluate/frechet-distance.ts';
import { buildEncoder } from '../src/models/encoder.ts';
import { loadModel, membersOf } from '../src/models/model-dir.ts';
import { Graph } from '../src/onnx/graph.ts';
import { type NdArray, float32 } from '../src/onnx/ndarray.ts';
import { Rng } from '../src/random.ts';
import { runBatched } from '../src/runtime/batched.ts';
import { deviceFromEnv } from '../src/runtime/device.ts';
import { createSession } from '../src/runtime/session.ts';
import { flag, option } from './bench-args.ts';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const data = process.env.EXCITE_V4_DATA ?? join(repo, '../shared/data/v4');
const priorDir = resolve(option('--prior', join(repo, 'models/demo/prior'))!);
const encoderDir = resolve(option('--encoder', join(repo, 'models/demo/attention-train'))!);
const json = flag('--json');
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 256);
const STEPS = Number(process.env.BENCH_STEPS ?? 100);
const SEED = 1;
const HELD_OUT = ['201025', '210225'];
const HELD_OUT_IMAGES = [600, 1200] as const;
/** the sessions of models/demo/train-prior.sh, for a prior whose model.json does not list its data */
const DEMO_TRAINING = ['190925', '190927', '190928', '190929', '210224', '210305', '210322', '210325', '210621'];
/** almost black: at least this share of pixels below DARK */
const DARK = -0.9;
const DARK_SHARE = 0.9;
// progress on stderr; the figures on stdout (as JSON with --json)
const progress = (line: string) => console.error(line);
const say = (line: string) => (json ? console.error(line) : console.log(line));

/** A set of images [n, 1, S, S] in the prior's space, one after the other. */
interface ImageSet {
  count: number;
  size: number;
  data: Float32Array;
}

const imageSet = (images: readonly Float32Array[], size: number): ImageSet => {
  const data = new Float32Array(images.length * size * size);
  images.forEach((x, i) => data.set(x, i * size * size));
  return { count: images.length, size, data };
};
const subset = (set: ImageSet, idx: readonly number[]): ImageSet => imageSet(idx.map((k) => set.data.subarray(k * set.size ** 2, (k + 1) * set.size ** 2)), set.size);

/** numpy's default percentile (linear between order statistics). */
function percentile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const at = (q / 100) * (s.length - 1);
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
}

/** The prior's training folders: model.json's training.data (relative to the repository, or the session found under the V4 data). */
function trainingDirs(listed: unknown): string[] {
  const dirs = Array.isArray(listed) && listed.every((d) => typeof d === 'string') ? (listed as string[]) : DEMO_TRAINING.map((s) => join(data, 'sessions', s));
  return dirs.map((d) => {
    const there = resolve(repo, d);
    if (existsSync(join(there, 'images.zip'))) return there;
    const session = join(data, 'sessions', basename(d));
    if (existsSync(join(session, 'images.zip'))) return session;
    throw new Error(`the prior's training images ${d} are not at ${there} nor at ${session}`);
  });
}

/** Held-out images of the test sessions in the prior's space at its size (grayscale, whole image resized, as training sees a full crop). */
async function heldOutImages(size: number): Promise<ImageSet> {
  const images: Float32Array[] = [];
  for (const s of HELD_OUT) {
    const archive = await readImageArchive(join(data, 'sessions', s, 'images.zip'));
    if (archive.count < HELD_OUT_IMAGES[1]) throw new Error(`${archive.file} holds ${archive.count} images, ${HELD_OUT_IMAGES[1]} are expected`);
    for (let k = HELD_OUT_IMAGES[0]; k < HELD_OUT_IMAGES[1]; k++) images.push(pixelsToPrior(toModelGeometry(await archive.image(k), { height: size, width: size, fit: 'resize' }).data));
  }
  return imageSet(images, size);
}

/**
 * Encoder-core features of images in the prior's space: pixels p = (x + 1) * 127.5, resized to the
 * encoder's input and standardized as it was trained; per channel of the core's map [C, H, W]
 * its spatial mean and spatial std (2C numbers per image).
 */
async function coreFeatures(): Promise<{ dim: number; of: (set: ImageSet) => Promise<Float64Array>; release: () => Promise<void> }> {
  const member = membersOf(await loadModel(encoderDir))[0];
  const { input } = member.spec;
  const g = new Graph('core_features');
  const image = g.input('image', 'float32', ['batch', member.spec.core.inputChannels, input.height, input.width]);
  const { core } = buildEncoder(g, image, member.spec, { weights: member.weights, sessions: [] });
  g.output(core.features, 'features');
  const session = await createSession(g);
  const C = member.spec.core.channels;
  return {
    dim: 2 * C,
    release: () => session.release(),
    of: async (set) => {
      const px = input.height * input.width;
      const pixels = new Float32Array(set.count * px);
      for (let i = 0; i < set.count; i++) {
        const p = float32([1, set.size, set.size], set.data.subarray(i * set.size ** 2, (i + 1) * set.size ** 2).map((x) => (x + 1) * 127.5));
        pixels.set(resizeBilinear(p, input.height, input.width).data, i * px);
      }
      const maps: NdArray<Float32Array> = await runBatched(session, {}, 'image', standardize(float32([set.count, 1, input.height, input.width], pixels), input), 'features', 32);
      const [, , H, W] = maps.shape;
      const out = new Float64Array(set.count * 2 * C);
      for (let i = 0; i < set.count; i++)
        for (let c = 0; c < C; c++) {
          const m = maps.data.subarray((i * C + c) * H * W, (i * C + c + 1) * H * W);
          let s = 0;
          for (const v of m) s += v;
          const mean = s / m.length;
          let v2 = 0;
          for (const v of m) v2 += (v - mean) ** 2;
          out[i * 2 * C + c] = mean;
          out[i * 2 * C + C + c] = Math.sqrt(v2 / m.length);
        }
      return out;
    },
  };
}

/** For each image of `queries`, the smallest L2 distance to an image of `pool` (same size). */
function nearestDistances(queries: ImageSet, pool: ImageSet): number[] {
  const n = queries.size ** 2;
  const out: number[] = [];
  for (let i = 0; i < queries.count; i++) {
    const q = queries.data.subarray(i * n, (i + 1) * n);
    let best = Infinity;
    for (let j = 0; j < pool.count; j++) {
      const base = j * n;
      let s = 0;
      // stop a candidate as soon as it is farther than the best so far
      for (let k = 0; k < n && s < best; k++) {
        const d = q[k] - pool.data[base + k];
        s += d * d;
      }
      if (s < best) best = s;
    }
    out.push(Math.sqrt(best));
  }
  return out;
}

function pixelStats(set: ImageSet): { mean: number; std: number; outside: number; dark: number } {
  let s = 0;
  let outside = 0;
  for (const x of set.data) {
    s += x;
    if (x < -1 || x > 1) outside++;
  }
  const mean = s / set.data.length;
  let v = 0;
  for (const x of set.data) v += (x - mean) ** 2;
  const n = set.size ** 2;
  let dark = 0;
  for (let i = 0; i < set.count; i++) {
    let below = 0;
    for (let k = i * n; k < (i + 1) * n; k++) if (set.data[k] < DARK) below++;
    if (below >= DARK_SHARE * n) dark++;
  }
  return { mean, std: Math.sqrt(v / set.data.length), outside: outside / set.data.length, dark: dark / set.count };
}

const summary = (d: readonly number[]) => ({ median: median(d), p5: percentile(d, 5), n: d.length });

async function main() {
  if (!existsSync(join(data, 'sessions'))) {
    console.error(`bench:prior skipped: no V4 data at ${data} (set EXCITE_V4_DATA to a copy of the V4 data folder)`);
    return;
  }
  if (!(Number.isInteger(SAMPLES) && SAMPLES >= 2 && Number.isInteger(STEPS) && STEPS >= 1)) throw new Error(`BENCH_SAMPLES (${SAMPLES}) must be at least 2 and BENCH_STEPS (${STEPS}) at least 1`);
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const cores = os.cpus().length;
  const device = deviceFromEnv();
  const prior = await loadPrior(priorDir);
  const S = prior.config.imageSize;
  if (prior.config.inChannels !== 1) throw new Error(`${priorDir}: a ${prior.config.inChannels}-channel prior; the held-out images and the encoder are grayscale`);
  const dirs = trainingDirs(prior.meta.training?.data);

  progress(`held-out images: sessions ${HELD_OUT.join(', ')}, images ${HELD_OUT_IMAGES[0]}..${HELD_OUT_IMAGES[1] - 1}`);
  const heldOut = await heldOutImages(S);
  progress(`training images of ${dirs.length} folders`);
  const loaded = await loadPriorImages(dirs);
  const training = imageSet(loaded.images.map((im) => pixelsToPrior(resizeBilinear(im, S, S).data)), S);
  loaded.images.length = 0;

  progress(`${SAMPLES} samples, ${STEPS} ancestral steps, seed ${SEED}`);
  const started = performance.now();
  let stepsDone = 0;
  const { samples } = await samplePrior(prior, {
    count: SAMPLES,
    steps: STEPS,
    seed: SEED,
    batchSize: 32,
    onStep: () => {
      if (++stepsDone % STEPS === 0) progress(`  ${Math.min(SAMPLES, (stepsDone / STEPS) * 32)} of ${SAMPLES} samples (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    },
  });
  const sampleSeconds = (performance.now() - started) / 1000;
  const raw: ImageSet = { count: SAMPLES, size: S, data: samples.data };
  // the images as shown: the sampler's last x (x0 not clipped along the way) clipped to [-1, 1]
  const shown: ImageSet = { count: SAMPLES, size: S, data: samples.data.map((x) => Math.min(1, Math.max(-1, x))) };

  // Fréchet distances, all against held-out half B with n vectors on the other side
  progress('encoder-core features');
  const order = new Rng(SEED).permutation(heldOut.count);
  const half = heldOut.count >> 1;
  const a = subset(heldOut, order.slice(0, half));
  const b = subset(heldOut, order.slice(half));
  const n = Math.min(SAMPLES, a.count);
  const heldStats = pixelStats(heldOut);
  const noiseRng = new Rng(SEED + 1);
  const noise: ImageSet = { count: n, size: S, data: noiseRng.normals(n * S * S, heldStats.std).map((z) => z + heldStats.mean) };
  const features = await coreFeatures();
  let fd: { samples: number; floor: number; noise: number };
  try {
    const fb = await features.of(b);
    fd = {
      samples: frechetDistanceOf(await features.of(SAMPLES > n ? subset(shown, [...Array(n).keys()]) : shown), fb, features.dim),
      floor: frechetDistanceOf(await features.of(subset(a, [...Array(n).keys()])), fb, features.dim),
      noise: frechetDistanceOf(await features.of(noise), fb, features.dim),
    };
  } finally {
    await features.release();
  }

  progress(`nearest training images (${training.count})`);
  const nearSamples = nearestDistances(shown, training);
  const nearHeldAll = nearestDistances(heldOut, training);
  const nearHeld = nearHeldAll.filter((d) => d > 1e-6);
  const near = { samples: summary(nearSamples), heldOut: summary(nearHeld), identicalHeldOut: nearHeldAll.length - nearHeld.length };
  const sampleStats = pixelStats(raw);

  const figures = {
    machine: { cpu, cores },
    device,
    prior: priorDir,
    encoder: `${encoderDir} (member 0)`,
    samples: SAMPLES,
    steps: STEPS,
    seed: SEED,
    sampleSeconds,
    frechet: { ...fd, features: features.dim, n, reference: b.count },
    nearest: { ...near, ratioMedian: near.samples.median / near.heldOut.median, ratioP5: near.samples.p5 / near.heldOut.p5, trainingImages: training.count },
    pixels: { samples: sampleStats, heldOut: heldStats },
  };

  say(`diffusion prior ${priorDir} (machine: ${cpu}, ${cores} cores; device ${device})`);
  say(`${SAMPLES} unguided ancestral samples, ${STEPS} steps, seed ${SEED}, x0 not clipped: ${sampleSeconds.toFixed(1)} s`);
  say(`Fréchet distance in ${features.dim} encoder-core features (${encoderDir}, member 0), each of ${n} images against held-out half B (${b.count} images):`);
  say(`  samples              ${fd.samples.toFixed(3)}`);
  say(`  held-out half A      ${fd.floor.toFixed(3)}   (floor)`);
  say(`  Gaussian noise       ${fd.noise.toFixed(3)}   (matched pixel mean/std: a bad prior)`);
  say(`nearest training image (L2 in [-1, 1] at ${S}x${S}, ${training.count} training images):`);
  say(`  samples   median ${near.samples.median.toFixed(3)}  5th percentile ${near.samples.p5.toFixed(3)}  (${near.samples.n})`);
  say(`  held-out  median ${near.heldOut.median.toFixed(3)}  5th percentile ${near.heldOut.p5.toFixed(3)}  (${near.heldOut.n}; ${near.identicalHeldOut} identical to a training image left out)`);
  say(`  samples / held-out: median ${figures.nearest.ratioMedian.toFixed(2)}, 5th percentile ${figures.nearest.ratioP5.toFixed(2)} (well below 1: copies)`);
  say(`almost black (>= ${DARK_SHARE * 100} % of pixels below ${DARK}): samples ${(sampleStats.dark * 100).toFixed(1)} %, held-out ${(heldStats.dark * 100).toFixed(1)} %`);
  say(`pixels (prior space): samples mean ${sampleStats.mean.toFixed(3)} std ${sampleStats.std.toFixed(3)} (${(sampleStats.outside * 100).toFixed(1)} % outside [-1, 1]); held-out mean ${heldStats.mean.toFixed(3)} std ${heldStats.std.toFixed(3)}`);
  if (json) console.log(JSON.stringify(figures));
}

await main();
