/**
 * Importing recorded responses (importResponses): the responses of a session's neurons to a
 * stimulus set excite exported (images.csv's image ids, by stimulus number), and optionally to
 * natural reference images (TOP_K images, or columns of an uploaded image set). Everything is
 * checked before anything is written, and one transaction writes the recording, its stimuli and
 * its responses, so a refused import leaves nothing behind.
 *
 * Rules (docs/closed-loop.md):
 * - rows are neurons of the session: `neurons` (indices) when given, else every neuron the service
 *   knows of the session (`neurons` table: registered by the models that predict them), by index;
 *   each stimulus must carry exactly that many rows (NEURON_COUNT_MISMATCH);
 * - a stimulus names a stored image made for a neuron of the same session (or for none), or a
 *   column of a dataset (UNKNOWN_STIMULUS); numbers and images appear once (BAD_USER_INPUT);
 * - each row holds the stimulus's repeats, null for a missing one; a neuron without a value for any
 *   stimulus, or a stimulus without one for any neuron, is refused (EMPTY_RESPONSES); a
 *   (stimulus, neuron) without any repeat stores nothing;
 * - (session, name) is unique (RECORDING_EXISTS) unless `replace`, which deletes the old one in the
 *   same transaction.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { meanAndSem } from '@excite/engine';
import type { Database } from '../db/database.ts';
import { datasets, images, neurons, recordedResponses, recordingStimuli, recordings, runs } from '../db/schema.ts';
import { isUuid } from '../db/uuid.ts';
import { ServiceError } from '../errors.ts';

export interface RecordedStimulusRequest {
  stimulus: number;
  image?: string | null;
  dataset?: string | null;
  datasetImage?: number | null;
  responses: readonly (readonly (number | null)[])[];
}

export interface ImportResponsesRequest {
  name: string;
  session: string;
  neurons?: readonly number[] | null;
  stimuli: readonly RecordedStimulusRequest[];
  replace?: boolean | null;
}

export type RecordingRow = typeof recordings.$inferSelect;

/** Responses a single import may hold: (stimulus, neuron, repeat) values. */
export const MAX_IMPORT_VALUES = 2_000_000;

const refuse = (code: ConstructorParameters<typeof ServiceError>[0], message: string, details: Record<string, unknown> = {}) => new ServiceError(code, message, details);

export async function importResponses(database: Database, request: ImportResponsesRequest, tokenId: string | null): Promise<RecordingRow> {
  const name = request.name.trim();
  const session = request.session.trim();
  if (!name || name.length > 200) throw refuse('BAD_USER_INPUT', 'name must be 1 to 200 characters', { argument: 'name' });
  if (!session) throw refuse('BAD_USER_INPUT', 'session must not be empty', { argument: 'session' });
  if (request.stimuli.length === 0) throw refuse('EMPTY_RESPONSES', 'no stimuli: nothing to import');
  const { db } = database;

  // the rows: the session's neurons
  const known = await db.select().from(neurons).where(eq(neurons.session, session)).orderBy(neurons.index);
  if (known.length === 0) throw refuse('UNKNOWN_NEURON', `the service knows no neuron of session "${session}": register a model that predicts them first`, { session });
  let rows = known;
  if (request.neurons?.length) {
    const byIndex = new Map(known.map((n) => [n.index, n]));
    if (new Set(request.neurons).size !== request.neurons.length) throw refuse('BAD_USER_INPUT', 'neurons names a neuron twice', { argument: 'neurons' });
    const missing = request.neurons.filter((i) => !byIndex.has(i));
    if (missing.length) throw refuse('UNKNOWN_NEURON', `session "${session}" has no neuron ${missing.slice(0, 5).join(', ')} (it has ${known.map((n) => n.index).join(', ')})`, { session, neurons: missing });
    rows = request.neurons.map((i) => byIndex.get(i)!);
  }

  // the stimuli: shapes and values
  const numbers = new Set<number>();
  const imageIds = new Set<string>();
  let values = 0;
  for (const s of request.stimuli) {
    if (numbers.has(s.stimulus)) throw refuse('BAD_USER_INPUT', `stimulus ${s.stimulus} appears twice`, { stimulus: s.stimulus });
    numbers.add(s.stimulus);
    const isImage = s.image != null;
    const isColumn = s.dataset != null || s.datasetImage != null;
    if (isImage === isColumn || (isColumn && (s.dataset == null || s.datasetImage == null))) throw refuse('BAD_USER_INPUT', `stimulus ${s.stimulus}: name either an image or a dataset and its column (datasetImage)`, { stimulus: s.stimulus });
    if (isImage) {
      if (imageIds.has(s.image!)) throw refuse('BAD_USER_INPUT', `image ${s.image} appears twice (stimulus ${s.stimulus})`, { stimulus: s.stimulus });
      imageIds.add(s.image!);
    }
    if (s.responses.length !== rows.length) {
      throw refuse('NEURON_COUNT_MISMATCH', `stimulus ${s.stimulus} has responses of ${s.responses.length} neurons; session "${session}" has ${rows.length}${request.neurons?.length ? ' (the neurons given)' : ` (neurons ${rows[0].index}..${rows.at(-1)!.index})`}`, { stimulus: s.stimulus, expected: rows.length, got: s.responses.length });
    }
    for (const r of s.responses) {
      values += r.length;
      for (const v of r) if (v !== null && !Number.isFinite(v)) throw refuse('NON_FINITE_VALUES', `stimulus ${s.stimulus}: a response is not finite`, { stimulus: s.stimulus });
    }
  }
  if (values > MAX_IMPORT_VALUES) throw refuse('BAD_USER_INPUT', `${values} values: an import holds at most ${MAX_IMPORT_VALUES}`);
  const has = (r: readonly (number | null)[]) => r.some((v) => v !== null);
  for (const s of request.stimuli) if (!s.responses.some(has)) throw refuse('EMPTY_RESPONSES', `stimulus ${s.stimulus} has no recorded value for any neuron (NaN only): leave it out`, { stimulus: s.stimulus });
  rows.forEach((n, j) => {
    if (!request.stimuli.some((s) => has(s.responses[j]))) throw refuse('EMPTY_RESPONSES', `neuron ${session}:${n.index} (row ${j}) has no recorded value for any stimulus (NaN only): leave it out with neurons`, { neuron: n.index, row: j });
  });

  // the stimuli: what they name
  const ids = [...imageIds];
  const bad = ids.find((id) => !isUuid(id));
  if (bad) throw refuse('UNKNOWN_STIMULUS', `no image with id "${bad}"`, { image: bad });
  const found = ids.length
    ? await db.select({ id: images.id, neuronSession: neurons.session }).from(images).innerJoin(runs, eq(runs.id, images.runId)).leftJoin(neurons, eq(neurons.id, images.neuronId)).where(inArray(images.id, ids))
    : [];
  const byId = new Map(found.map((r) => [r.id, r]));
  const datasetIds = [...new Set(request.stimuli.flatMap((s) => (s.dataset != null ? [s.dataset] : [])))];
  const sets = datasetIds.filter(isUuid).length ? await db.select().from(datasets).where(inArray(datasets.id, datasetIds.filter(isUuid))) : [];
  for (const s of request.stimuli) {
    if (s.image != null) {
      const image = byId.get(s.image);
      if (!image) throw refuse('UNKNOWN_STIMULUS', `stimulus ${s.stimulus}: no image with id "${s.image}"`, { stimulus: s.stimulus, image: s.image });
      if (image.neuronSession !== null && image.neuronSession !== session) throw refuse('UNKNOWN_STIMULUS', `stimulus ${s.stimulus}: image ${s.image} was made for a neuron of session "${image.neuronSession}", not "${session}"`, { stimulus: s.stimulus, image: s.image });
    } else {
      const set = sets.find((d) => d.id === s.dataset);
      if (!set) throw refuse('UNKNOWN_STIMULUS', `stimulus ${s.stimulus}: no dataset with id "${s.dataset}"`, { stimulus: s.stimulus, dataset: s.dataset });
      if (!Number.isInteger(s.datasetImage) || s.datasetImage! < 0 || s.datasetImage! >= set.imageCount) {
        throw refuse('UNKNOWN_STIMULUS', `stimulus ${s.stimulus}: dataset ${set.name} has images 0..${set.imageCount - 1}, not ${s.datasetImage}`, { stimulus: s.stimulus, dataset: s.dataset });
      }
    }
  }

  const maxRepeats = Math.max(...request.stimuli.flatMap((s) => s.responses.map((r) => r.filter((v) => v !== null).length)));
  try {
    return await write();
  } catch (e) {
    // another import of the same name committed between our check and our insert
    if (isUniqueViolation(e, 'recordings_session_name')) throw refuse('RECORDING_EXISTS', `session "${session}" already has a recording named "${name}": import it again with replace to replace it`);
    throw e;
  }

  function write() {
    return database.transaction(async ({ db: tx }) => {
      const [existing] = await tx.select({ id: recordings.id }).from(recordings).where(and(eq(recordings.session, session), eq(recordings.name, name)));
      if (existing) {
        if (!request.replace) throw refuse('RECORDING_EXISTS', `session "${session}" already has a recording named "${name}" (${existing.id}): import it again with replace to replace it`, { recording: existing.id });
        await tx.delete(recordings).where(eq(recordings.id, existing.id));
      }
      const [recording] = await tx
        .insert(recordings)
        .values({ name, session, neuronIndices: rows.map((n) => n.index), stimulusCount: request.stimuli.length, maxRepeats, tokenId })
        .returning();
      await tx.insert(recordingStimuli).values(
        request.stimuli.map((s) => ({ recordingId: recording.id, stimulus: s.stimulus, imageId: s.image ?? null, datasetId: s.dataset ?? null, datasetImage: s.datasetImage ?? null })),
      );
      const responses = request.stimuli.flatMap((s) =>
        rows.flatMap((n, j) => {
          const samples = s.responses[j].filter((v): v is number => v !== null);
          if (samples.length === 0) return [];
          const { mean, sem } = meanAndSem(samples);
          return [{ recordingId: recording.id, stimulus: s.stimulus, neuronId: n.id, mean, sem, repeats: samples.length, samples }];
        }),
      );
      for (let i = 0; i < responses.length; i += 1000) await tx.insert(recordedResponses).values(responses.slice(i, i + 1000));
      return recording;
    });
  }
}

/** A unique-index violation (SQLSTATE 23505) of `constraint`, from PostgreSQL or PGlite, possibly wrapped by Drizzle. */
function isUniqueViolation(e: unknown, constraint: string): boolean {
  for (let err = e as { code?: string; constraint?: string; message?: string; cause?: unknown } | undefined; err; err = err.cause as typeof err) {
    if (err.code === '23505') return err.constraint === constraint || (err.message ?? '').includes(constraint);
  }
  return false;
}
