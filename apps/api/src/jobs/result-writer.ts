/**
 * A finished job's results, ready for the run store: each run's stimuli as PNG and .npy blobs,
 * its energy and activation traces as .npy blobs, and every image's scores by the evaluators that
 * predict its neuron (score.ts). Blobs are content-addressed, so writing them before the runs'
 * transaction is safe: a run that was cancelled meanwhile leaves only unreferenced files.
 */
import { inArray } from 'drizzle-orm';
import { encodeNpy, float32, mean } from '@excite/engine';
import type { Database } from '../db/database.ts';
import { neurons } from '../db/schema.ts';
import type { RunResult, RunRow } from '../runs/run-store.ts';
import { type BlobStore, MEDIA_TYPES, type StoredBlob } from '../storage/blobs.ts';
import { encodePng } from './encode.ts';
import type { ModelLoader } from './model-loader.ts';
import { scoreByEvaluators } from './score.ts';
import type { RunImage, SynthesisOutput } from './synthesize.ts';

export interface Trace {
  energy: number[];
  activation: number[];
}

export interface ResultDeps {
  database: Database;
  blobs: BlobStore;
  loader: ModelLoader;
  log: (line: string) => void;
}

/** The results of `runs[i]` from `output.images[i]` and `traces[i]`, for the runs given. */
export async function writeResults(deps: ResultDeps, runs: readonly { run: RunRow; i: number }[], output: SynthesisOutput, traces: readonly Trace[]): Promise<{ results: RunResult[]; blobs: StoredBlob[] }> {
  const stored: StoredBlob[] = [];
  const put = async (bytes: Uint8Array, mediaType: string) => {
    const blob = await deps.blobs.put(bytes, mediaType);
    stored.push(blob);
    return blob.hash;
  };
  const written = await Promise.all(
    runs.map(async ({ run, i }) => {
      const set = output.images[i];
      const n = set.length;
      const trace = (values: number[]) => put(encodeNpy(float32(n > 1 ? [values.length / n, n] : [values.length], values)), MEDIA_TYPES.npy);
      const rows = await Promise.all(
        set.map(async (image: RunImage) => ({
          image,
          row: {
            index: image.index,
            kind: image.kind,
            neuronId: run.neuronId,
            seed: image.seed,
            sourceIndex: image.sourceIndex,
            channels: image.pixels.shape[0],
            height: image.pixels.shape[1],
            width: image.pixels.shape[2],
            png: await put(await encodePng(image.pixels), MEDIA_TYPES.png),
            // the .npy holds the stimulus too, as floats: a rig that reads it shows what was scored
            array: await put(encodeNpy(image.pixels), MEDIA_TYPES.npy),
            space: 'pixels' as const,
            activation: image.activation,
            energy: image.energy,
          },
        })),
      );
      return { run, i, rows, energyTrace: await trace(traces[i].energy), activationTrace: await trace(traces[i].activation) };
    }),
  );
  // reconstructions have no neuron to score
  const refs = await neuronRefs(deps.database, runs.map(({ run }) => run.neuronId));
  const scorable = written.flatMap((w) => (w.run.neuronId === null ? [] : w.rows.map((r) => ({ r, neuronId: w.run.neuronId!, neuron: refs.get(w.run.neuronId!)!, pixels: r.image.pixels }))));
  const scores = await scoreByEvaluators(deps.database.db, deps.loader, scorable, deps.log);
  const scoresOf = new Map(scorable.map((x, k) => [x.r, scores[k]]));
  const results = written.map(
    (w): RunResult => ({
      runId: w.run.id,
      seconds: output.seconds,
      steps: w.run.steps,
      energy: mean(output.images[w.i].map((l) => l.energy)),
      activation: mean(output.images[w.i].map((l) => l.activation)),
      energyTrace: w.energyTrace,
      activationTrace: w.activationTrace,
      images: w.rows.map((r) => ({ row: r.row, scores: scoresOf.get(r) ?? [] })),
    }),
  );
  return { results, blobs: stored };
}

async function neuronRefs(database: Database, ids: readonly (string | null)[]) {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  const rows = wanted.length ? await database.db.select().from(neurons).where(inArray(neurons.id, wanted)) : [];
  return new Map(rows.map((n) => [n.id, { session: n.session, neuron: n.index }]));
}
