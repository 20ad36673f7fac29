/**
 * Distillation data: a dataset folder whose "responses" are a teacher model's predictions on
 * augmented natural images. A core trained on it alongside the recordings learns from clean targets
 * on many more images than a recording holds (docs/encoders.md, Distillation). Any scoring model can
 * teach: the published compact models, an imported ONNX twin, one of our ensembles.
 *
 * Images are seen in grayscale, as our encoders see them, and replicated to RGB for a colour
 * teacher, so that the targets depend only on what the student can see. View 0 of each image is
 * the image itself; further views are random square crops (0.6-1 of the side, anywhere in the
 * image) resized back to the full size, flipped left-right with probability 1/2.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { zipSync } from 'fflate';
import { readDataset } from '../data/dataset.ts';
import { encodeNpy } from '../data/npy.ts';
import { loadSharp } from '../data/sharp.ts';
import { type Image, resizeBilinear, toGrayscale } from '../data/images.ts';
import { float32 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { type ScoringModel, loadScoringModel, pixelScoringGraph } from '../models/scoring-model.ts';
import { runBatched } from '../runtime/batched.ts';
import { createSession } from '../runtime/session.ts';

export interface TeacherDataOptions {
  /** the teacher: any model folder or compact model folder */
  teacher: string;
  /** dataset folders whose images are used (their responses are not) */
  data: readonly string[];
  /** views per image, the first being the image itself */
  views: number;
  /** size of the images written (default: the first image's) */
  size?: number;
  seed: number;
  out: string;
  threads?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface TeacherDataResult {
  images: number;
  neurons: number;
  /** per neuron, the constant added so that every target is non-negative (Poisson targets) */
  shift: number[];
}

/** A random square crop of 0.6-1 of the side, resized back, flipped left-right half the time. */
export function augmentedView(image: Image, rng: Rng): Image {
  const [, H, W] = image.shape as [number, number, number];
  const side = Math.max(2, Math.round(Math.min(H, W) * (0.6 + 0.4 * rng.uniform())));
  const top = Math.floor(rng.uniform() * (H - side + 1));
  const left = Math.floor(rng.uniform() * (W - side + 1));
  const flip = rng.uniform() < 0.5;
  const crop = new Float32Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) crop[y * side + x] = image.data[(top + y) * W + left + (flip ? side - 1 - x : x)];
  return resizeBilinear(float32([1, side, side], crop), H, W);
}

/** Pixels rounded to the 8-bit values the PNG stores, so that the teacher scores what is written. */
const quantized = (image: Image): Image => float32(image.shape, image.data.map((v) => Math.max(0, Math.min(255, Math.round(v)))));

async function png(image: Image): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const [, H, W] = image.shape as [number, number, number];
  return new Uint8Array(await sharp(Uint8Array.from(image.data), { raw: { width: W, height: H, channels: 1 } }).png({ compressionLevel: 6 }).toBuffer());
}

/** Writes `out` (images.zip, responses.npy, teacher.json) whole, or nothing. */
export async function writeTeacherData(o: TeacherDataOptions): Promise<TeacherDataResult> {
  if (!(Number.isInteger(o.views) && o.views >= 1)) throw new Error(`--views must be a positive integer, got ${o.views}`);
  const teacher: ScoringModel = await loadScoringModel(o.teacher);
  const rng = new Rng(o.seed);
  const views: Image[] = [];
  for (const dir of o.data) {
    const dataset = await readDataset(dir);
    for (let k = 0; k < dataset.images.count; k++) {
      let gray = toGrayscale(await dataset.images.image(k));
      const size = o.size ?? (views[0]?.shape[1] as number | undefined) ?? gray.shape[1];
      gray = resizeBilinear(gray, size, size);
      views.push(quantized(gray));
      for (let v = 1; v < o.views; v++) views.push(quantized(augmentedView(gray, rng)));
    }
  }
  if (views.length === 0) throw new Error('no images in the given data folders');
  const [, H, W] = views[0].shape as [number, number, number];
  const pixels = float32([views.length, 1, H, W], new Float32Array(views.length * H * W));
  views.forEach((v, i) => pixels.data.set(v.data, i * H * W));
  const session = await createSession(pixelScoringGraph(teacher, { channels: 1, height: H, width: W }), {}, { threads: o.threads });
  let rates;
  try {
    rates = await runBatched(session, {}, 'pixels', pixels, 'rates', 32);
  } finally {
    await session.release();
  }
  const n = teacher.neurons.length;
  const count = views.length;
  // responses.npy is [neurons, images]; each neuron shifted so that its smallest target is 0
  const responses = new Float32Array(n * count);
  const shift: number[] = [];
  for (let j = 0; j < n; j++) {
    let min = Infinity;
    for (let i = 0; i < count; i++) min = Math.min(min, rates.data[i * n + j]);
    if (!Number.isFinite(min)) throw new Error(`the teacher's neuron ${j} predicts a non-finite rate`);
    const s = Math.max(0, -min);
    shift.push(s);
    for (let i = 0; i < count; i++) responses[j * count + i] = rates.data[i * n + j] + s;
  }
  const entries: Record<string, Uint8Array> = {};
  const digits = String(count).length;
  for (let i = 0; i < count; i++) {
    entries[`image${String(i + 1).padStart(digits, '0')}.png`] = await png(views[i]);
    o.onProgress?.(i + 1, count);
  }
  const staging = join(dirname(o.out), `.${Date.now()}-teacher-data`);
  await mkdir(staging, { recursive: true });
  try {
    await writeFile(join(staging, 'images.zip'), zipSync(entries, { level: 0 }));
    await writeFile(join(staging, 'responses.npy'), encodeNpy(float32([n, count], responses)));
    await writeFile(join(staging, 'teacher.json'), `${JSON.stringify({ teacher: o.teacher, neurons: teacher.neurons, data: o.data, views: o.views, seed: o.seed, size: H, shift }, null, 2)}\n`);
    await rm(o.out, { recursive: true, force: true });
    await rename(staging, o.out);
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
  return { images: count, neurons: n, shift };
}
