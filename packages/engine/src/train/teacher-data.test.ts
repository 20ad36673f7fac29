import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataset } from '../data/dataset.ts';
import { stackImages, toGrayscale } from '../data/images.ts';
import { DEMO_ENCODER, type EncoderSpec, buildEncoder } from '../models/encoder.ts';
import { writeEncoder } from '../models/model-dir.ts';
import { loadScoringModel, pixelScoringGraph } from '../models/scoring-model.ts';
import { Graph } from '../onnx/graph.ts';
import { type NdArray, float32, toNumbers } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { runBatched } from '../runtime/batched.ts';
import { createSession } from '../runtime/session.ts';
import { writeSyntheticSession } from '../testing/synthetic-session.ts';
import { augmentedView, writeTeacherData } from './teacher-data.ts';
import { shiftImages } from './trainer.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-teacher-'));
const spec: EncoderSpec = {
  core: { ...DEMO_ENCODER.core, channels: 8, layers: 2 },
  readout: { type: 'attention', keyDim: 8, dropout: 0.1, l1: 1 },
  input: { height: 24, width: 24, fit: 'resize', mean: 120, std: 40 },
  sessions: [{ id: 'teacher', neurons: [0, 1, 2] }],
};

describe('teacher data (distillation)', () => {
  beforeAll(async () => {
    await writeSyntheticSession(join(root, 'images'), { images: 5, neurons: 2, seed: 4, size: 48 });
    const g = new Graph('init');
    buildEncoder(g, g.input('image', 'float32', ['batch', 1, 24, 24]), spec, { seed: 2 });
    await writeEncoder(join(root, 'teacher'), spec, new Map<string, NdArray>([...g.weights].map(([k, v]) => [k, v.data!])));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("writes a dataset whose responses are the teacher's rates on the images it holds, shifted to be non-negative", async () => {
    const out = join(root, 'distill');
    const result = await writeTeacherData({ teacher: join(root, 'teacher'), data: [join(root, 'images')], views: 3, seed: 1, out });
    expect(result).toMatchObject({ images: 15, neurons: 3 });
    const dataset = await readDataset(out);
    expect(dataset.responses.shape).toEqual([3, 15]);
    const responses = toNumbers(dataset.responses);
    // the teacher scores the stored 8-bit images: rescoring them gives the targets back
    const teacher = await loadScoringModel(join(root, 'teacher'));
    const pixels = stackImages((await dataset.images.images()).map(toGrayscale));
    expect(pixels.shape).toEqual([15, 1, 48, 48]);
    const session = await createSession(pixelScoringGraph(teacher, { channels: 1, height: 48, width: 48 }));
    const rates = await runBatched(session, {}, 'pixels', pixels, 'rates');
    await session.release();
    for (let j = 0; j < 3; j++) {
      const column = Array.from({ length: 15 }, (_, i) => responses[j * 15 + i]);
      // rates of ELU + 1 are positive: nothing to shift
      expect(result.shift[j]).toBe(0);
      expect(Math.min(...column)).toBeGreaterThan(0);
      for (let i = 0; i < 15; i++) expect(column[i]).toBeCloseTo(rates.data[i * 3 + j] + result.shift[j], 4);
    }
    // view 0 of each image is the image itself, in grayscale
    const source = await readDataset(join(root, 'images'));
    const first = await source.images.image(0);
    const gray = Array.from({ length: 48 * 48 }, (_, p) => Math.round((first.data[p] + first.data[p + 2304] + first.data[p + 4608]) / 3));
    expect(Array.from(pixels.data.subarray(0, 2304))).toEqual(gray.map((v) => Math.min(255, Math.max(0, v))));
    expect(JSON.parse(readFileSync(join(out, 'teacher.json'), 'utf8'))).toMatchObject({ views: 3, seed: 1, size: 48 });
  });

  it('a teacher that cannot be loaded leaves nothing behind', async () => {
    const out = join(root, 'refused');
    await expect(writeTeacherData({ teacher: join(root, 'no-such-model'), data: [join(root, 'images')], views: 1, seed: 1, out })).rejects.toThrow();
    expect(existsSync(out)).toBe(false);
    await expect(writeTeacherData({ teacher: join(root, 'teacher'), data: [join(root, 'images')], views: 0, seed: 1, out })).rejects.toThrow(/views/);
  });

  it('an augmented view is a crop of the image, resized back, flipped or not', () => {
    // a horizontal ramp: a crop keeps it monotonic, increasing or (flipped) decreasing
    const ramp = float32([1, 20, 20], Float32Array.from({ length: 400 }, (_, p) => p % 20));
    const rng = new Rng(5);
    const directions = new Set<number>();
    for (let k = 0; k < 8; k++) {
      const v = augmentedView(ramp, rng);
      expect(v.shape).toEqual([1, 20, 20]);
      const row = Array.from(v.data.subarray(0, 20));
      const sign = Math.sign(row[19] - row[0]);
      directions.add(sign);
      for (let x = 1; x < 20; x++) expect(Math.sign(row[x] - row[x - 1]) * sign).toBeGreaterThanOrEqual(0);
      // every row is the same (the ramp does not vary vertically)
      expect(Array.from(v.data.subarray(380, 400))).toEqual(row);
    }
    expect(directions).toEqual(new Set([1, -1]));
  });
});

describe('shift augmentation', () => {
  it('moves each image by at most the given pixels, repeating the edges; 0 changes nothing', () => {
    const x = float32([6, 1, 5, 5], Float32Array.from({ length: 150 }, (_, p) => p));
    expect(Array.from(shiftImages(x, 0, new Rng(1)).data)).toEqual(Array.from(x.data));
    const shifted = shiftImages(x, 2, new Rng(2));
    for (let i = 0; i < 6; i++) {
      const img = (a: Float32Array, y: number, c: number) => a[i * 25 + y * 5 + c];
      // find the offset that explains the output
      const found = [-2, -1, 0, 1, 2].flatMap((dy) => [-2, -1, 0, 1, 2].map((dx) => [dy, dx])).filter(([dy, dx]) => {
        for (let y = 0; y < 5; y++) for (let c = 0; c < 5; c++) if (img(shifted.data, y, c) !== img(x.data, Math.min(4, Math.max(0, y - dy)), Math.min(4, Math.max(0, c - dx)))) return false;
        return true;
      });
      expect(found.length).toBe(1);
    }
  });
});
