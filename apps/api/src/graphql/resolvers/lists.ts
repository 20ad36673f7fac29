/**
 * The paginated lists: filters become SQL conditions, pages are keyset ranges over `seq` (creation
 * order; unique, so the order has no ties), so a page stays stable while rows are added behind it
 * (oldest first) or before it (newest first).
 */
import { type SQL, and, asc, desc, eq, exists, getTableColumns, gt, ilike, inArray, lt, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { ENCODER_KINDS, batches, comparisons, datasets, images, type ModelKind, modelNeurons, models, neurons, recordings, runs, trainings } from '../../db/schema.ts';
import { isUuid } from '../../db/uuid.ts';
import type { RunRow } from '../mappers.ts';
import type { GraphQLContext } from '../context.ts';
import type { EncoderFilter, ImageFilter, InputMaybe, ListOrder, NeuronFilter, NeuronInput, RunFilter, TrainingFilter } from '../generated/resolvers.ts';
import { decodeCursor, pageSize, toPage } from '../pagination.ts';

interface PageArgs {
  first?: number | null;
  after?: string | null;
  /** creation order; lists that take no `order` argument are oldest first */
  order?: ListOrder | null;
}

/**
 * One page of `table` ordered by seq (descending for NEWEST_FIRST), with the filter's conditions.
 * A first page counts the matching rows in the same statement (a window over the filtered rows,
 * computed before the limit); a later page, whose cursor narrows the rows, counts them apart.
 */
async function seqPage<T extends PgTable & { seq: PgColumn }>(ctx: GraphQLContext, table: T, args: PageArgs, where: SQL | undefined) {
  const first = pageSize(args.first, ctx.services.config.limits.maxPageSize);
  const after = decodeCursor(args.after, ['number']);
  const { db } = ctx.services.database;
  const newestFirst = args.order === 'NEWEST_FIRST';
  const order = newestFirst ? desc(table.seq) : asc(table.seq);
  const count = async () => {
    const [{ n }] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(table as PgTable)
      .where(where);
    return n;
  };
  if (!after) {
    const rows = await db
      .select({ ...getTableColumns(table as PgTable), _total: sql<number>`(count(*) over ())::int` })
      .from(table as PgTable)
      .where(where)
      .orderBy(order)
      .limit(first + 1);
    const total = rows.length ? rows[0]._total : 0;
    return toPage(
      rows.map(({ _total, ...row }) => row as T['$inferSelect']),
      first,
      (r) => [(r as { seq: number }).seq],
      total,
    );
  }
  const rows = await db
    .select()
    .from(table as PgTable)
    .where(and(where, (newestFirst ? lt : gt)(table.seq, after[0] as number)))
    .orderBy(order)
    .limit(first + 1);
  return toPage(rows as T['$inferSelect'][], first, (r) => [(r as { seq: number }).seq], await count());
}

/** An id filter: a string that is no uuid matches nothing. */
const idIs = (column: PgColumn, id: string) => (isUuid(id) ? eq(column, id) : sql`false`);

/** Rows whose neuron (column `neuronId`) is the given one. */
function neuronIs(column: PgColumn, n: NeuronInput): SQL {
  return exists(
    sql`(select 1 from ${neurons} where ${neurons.id} = ${column} and ${neurons.session} = ${n.session} and ${neurons.index} = ${n.index})`,
  );
}

export function listEncoders(ctx: GraphQLContext, args: PageArgs & { filter?: InputMaybe<EncoderFilter> }) {
  const f = args.filter ?? {};
  // priors are not encoders: PRIOR alone matches nothing
  const kinds = (f.kind?.length ? f.kind : ([...ENCODER_KINDS] as ModelKind[])).filter((k) => k !== 'prior');
  return seqPage(
    ctx,
    models,
    args,
    and(
      kinds.length ? inArray(models.kind, kinds) : sql`false`,
      f.name ? ilike(models.name, `%${f.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : undefined,
      f.neuron ? exists(sql`(select 1 from ${modelNeurons} where ${modelNeurons.modelId} = ${models.id} and ${neuronIs(modelNeurons.neuronId, f.neuron)})`) : undefined,
    ),
  );
}

export function listPriors(ctx: GraphQLContext, args: PageArgs) {
  return seqPage(ctx, models, args, eq(models.kind, 'prior'));
}

export function listDatasets(ctx: GraphQLContext, args: PageArgs) {
  return seqPage(ctx, datasets, args, undefined);
}

export function listBatches(ctx: GraphQLContext, args: PageArgs) {
  return seqPage(ctx, batches, { ...args, order: args.order ?? 'NEWEST_FIRST' }, undefined);
}

export function listTrainings(ctx: GraphQLContext, args: PageArgs & { filter?: InputMaybe<TrainingFilter> }) {
  const f = args.filter ?? {};
  return seqPage(ctx, trainings, args, and(f.status?.length ? inArray(trainings.status, f.status) : undefined, f.kind?.length ? inArray(trainings.kind, f.kind) : undefined));
}

export function listComparisons(ctx: GraphQLContext, args: PageArgs) {
  return seqPage(ctx, comparisons, { ...args, order: args.order ?? 'NEWEST_FIRST' }, undefined);
}

export function listRecordings(ctx: GraphQLContext, args: PageArgs & { session?: string | null }) {
  return seqPage(ctx, recordings, args, args.session != null ? eq(recordings.session, args.session) : undefined);
}

export function listRuns(ctx: GraphQLContext, args: PageArgs & { filter?: InputMaybe<RunFilter> }) {
  const f = args.filter ?? {};
  return seqPage(
    ctx,
    runs,
    { ...args, order: args.order ?? 'NEWEST_FIRST' },
    and(
      f.batch ? idIs(runs.batchId, f.batch) : undefined,
      f.status?.length ? inArray(runs.status, f.status) : undefined,
      f.method?.length ? inArray(runs.method, f.method) : undefined,
      f.generator ? idIs(runs.generatorId, f.generator) : undefined,
      f.neuron ? neuronIs(runs.neuronId, f.neuron) : undefined,
    ),
  );
}

export function listImages(ctx: GraphQLContext, args: PageArgs & { filter?: InputMaybe<ImageFilter> }) {
  const f = args.filter ?? {};
  const ofRuns = f.batch || f.generator || f.method?.length;
  return seqPage(
    ctx,
    images,
    { ...args, order: args.order ?? 'NEWEST_FIRST' },
    and(
      f.run ? idIs(images.runId, f.run) : undefined,
      f.kind?.length ? inArray(images.kind, f.kind) : undefined,
      f.neuron ? neuronIs(images.neuronId, f.neuron) : undefined,
      ofRuns
        ? exists(
            sql`(select 1 from ${runs} where ${runs.id} = ${images.runId} and ${and(
              f.batch ? idIs(runs.batchId, f.batch) : undefined,
              f.generator ? idIs(runs.generatorId, f.generator) : undefined,
              f.method?.length ? inArray(runs.method, f.method) : undefined,
            )})`,
          )
        : undefined,
    ),
  );
}

/** Neurons ordered by session, then index. */
export async function listNeurons(ctx: GraphQLContext, args: PageArgs & { filter?: InputMaybe<NeuronFilter> }) {
  const f = args.filter ?? {};
  const first = pageSize(args.first, ctx.services.config.limits.maxPageSize);
  const after = decodeCursor(args.after, ['string', 'number']);
  const { db } = ctx.services.database;
  const where = and(
    f.session ? eq(neurons.session, f.session) : undefined,
    f.encoder ? exists(sql`(select 1 from ${modelNeurons} where ${modelNeurons.neuronId} = ${neurons.id} and ${idIs(modelNeurons.modelId, f.encoder)})`) : undefined,
  );
  const rows = await db
    .select()
    .from(neurons)
    .where(and(where, after ? sql`(${neurons.session}, ${neurons.index}) > (${after[0]}, ${after[1]})` : undefined))
    .orderBy(asc(neurons.session), asc(neurons.index))
    .limit(first + 1);
  const [{ n }] = await db.select({ n: sql<number>`count(*)::int` }).from(neurons).where(where);
  return toPage(rows, first, (r) => [r.session, r.index], n);
}

/**
 * What the service holds, counted in one statement: runs by status, batches, comparisons, models
 * (encoders apart from priors), datasets.
 */
export async function overviewCounts(db: GraphQLContext['services']['database']['db']) {
  const n = (q: SQL) => sql<number>`(${q})::int`;
  const runsWith = (status: RunRow['status']) => n(sql`select count(*) from ${runs} where ${runs.status} = ${status}`);
  const [row] = await db
    .select({
      queued: runsWith('queued'),
      running: runsWith('running'),
      succeeded: runsWith('succeeded'),
      failed: runsWith('failed'),
      cancelled: runsWith('cancelled'),
      batches: n(sql`select count(*) from ${batches}`),
      comparisons: n(sql`select count(*) from ${comparisons}`),
      encoders: n(sql`select count(*) from ${models} where ${models.kind} <> 'prior'`),
      priors: n(sql`select count(*) from ${models} where ${models.kind} = 'prior'`),
      datasets: n(sql`select count(*) from ${datasets}`),
    })
    .from(sql`(select 1) as one`);
  const { queued, running, succeeded, failed, cancelled, ...rest } = row;
  return { runs: { queued, running, succeeded, failed, cancelled }, ...rest };
}
