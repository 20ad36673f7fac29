/**
 * A batch's or a run's images on disk for a stimulus presentation rig: each image as an 8-bit PNG
 * (pixel space) and a float32 .npy (the space the method ran in), numbered in a fixed order
 * (generator, method, neuron or target, seed, position in the run), and images.csv with one row
 * per image: its files, what made it, every evaluator's score and, once a recording showed it, its
 * neuron's recorded response (mean, standard error, repeats) per recording.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExciteClient } from '../client.ts';
import type { ImageFieldsFragment } from '../generated/graphql.ts';

export interface ExportedImage {
  /** 1-based number of the stimulus */
  stimulus: number;
  png: string;
  npy: string;
  image: ImageFieldsFragment;
}

export interface ExportResult {
  images: ExportedImage[];
  /** the CSV's path */
  csv: string;
}

const slug = (s: string) => s.replace(/[^\w.-]+/g, '-');

function stem(image: ImageFieldsFragment, stimulus: number, width: number, withGenerator: boolean): string {
  const what = image.neuron ? `${image.neuron.session}-${image.neuron.index}` : `target${image.sourceIndex}`;
  const parts = [String(stimulus).padStart(width, '0'), image.method.toLowerCase().replace(/_/g, '-'), what, `s${image.seed}`];
  if (image.kind === 'DIVERSE' || image.kind === 'NATURAL') parts.push(`k${image.index}`);
  if (withGenerator) parts.splice(1, 0, slug(image.generator.name));
  return parts.join('_');
}

/** The order of the stimuli: the same whichever run finished first. */
function compareImages(a: ImageFieldsFragment, b: ImageFieldsFragment): number {
  const keys = (i: ImageFieldsFragment) => [i.generator.name, i.method, i.neuron?.session ?? '', i.neuron?.index ?? -1, i.sourceIndex ?? -1, i.seed, i.index] as const;
  const [x, y] = [keys(a), keys(b)];
  for (let k = 0; k < x.length; k++) {
    const [p, q] = [x[k], y[k]];
    const order = typeof p === 'number' && typeof q === 'number' ? p - q : String(p).localeCompare(String(q));
    if (order !== 0) return order;
  }
  return a.id.localeCompare(b.id);
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export async function exportImages(
  client: ExciteClient,
  filter: { batch?: string; run?: string },
  outDir: string,
  options: { onImage?: (exported: ExportedImage, done: number, total: number) => void; concurrency?: number } = {},
): Promise<ExportResult> {
  if (!filter.batch && !filter.run) throw new Error('exportImages: name a batch or a run');
  const images: ImageFieldsFragment[] = [];
  for await (const image of client.paginate('images', { filter }, { pageSize: 200 })) images.push(image);
  images.sort(compareImages);
  await mkdir(outDir, { recursive: true });
  const width = Math.max(3, String(images.length).length);
  const withGenerator = new Set(images.map((i) => i.generator.id)).size > 1;
  const exported = images.map((image, i): ExportedImage => {
    const name = stem(image, i + 1, width, withGenerator);
    return { stimulus: i + 1, png: `${name}.png`, npy: `${name}.npy`, image };
  });

  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < exported.length) {
      const item = exported[next++];
      const [png, npy] = await Promise.all([client.download(item.image.png), client.download(item.image.array)]);
      await Promise.all([writeFile(join(outDir, item.png), png), writeFile(join(outDir, item.npy), npy)]);
      options.onImage?.(item, ++done, exported.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, exported.length) }, worker));

  // one score column per evaluator, named by its name (its id where two share a name)
  const evaluators = new Map<string, string>();
  for (const { scores } of images) for (const s of scores) evaluators.set(s.evaluator.id, s.evaluator.name);
  const names = [...evaluators.values()];
  const columns = [...evaluators].map(([id, name]) => `score:${names.filter((n) => n === name).length > 1 ? id : name}`);
  // the recorded response of the image's neuron, per recording that showed it: mean, standard error, repeats
  const recordings = new Map<string, string>();
  for (const { recorded } of images) for (const r of recorded) recordings.set(r.recording.id, r.recording.name);
  const recordingNames = [...recordings.values()];
  const recordingColumns = [...recordings].flatMap(([id, name]) => {
    const label = recordingNames.filter((n) => n === name).length > 1 ? id : name;
    return [`recorded:${label}`, `recorded_sem:${label}`, `recorded_repeats:${label}`];
  });
  const header = ['stimulus', 'png', 'npy', 'image', 'run', 'batch', 'generator', 'method', 'kind', 'session', 'neuron', 'seed', 'index', 'source_index', 'width', 'height', 'channels', 'space', 'activation', 'energy', ...columns, ...recordingColumns];
  const rows = exported.map(({ stimulus, png, npy, image }) => {
    const score = new Map(image.scores.map((s) => [s.evaluator.id, s.value]));
    const recorded = new Map(image.recorded.map((r) => [r.recording.id, r]));
    return [
      stimulus, png, npy, image.id, image.run.id, image.run.batch.id, image.generator.name, image.method, image.kind,
      image.neuron?.session, image.neuron?.index, image.seed, image.index, image.sourceIndex, image.width, image.height, image.channels, image.space,
      image.activation, image.energy, ...[...evaluators.keys()].map((id) => score.get(id)),
      ...[...recordings.keys()].flatMap((id) => {
        const r = recorded.get(id);
        return [r?.mean, r?.sem, r?.repeats];
      }),
    ];
  });
  const csv = join(outDir, 'images.csv');
  await writeFile(csv, [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n');
  return { images: exported, csv };
}
