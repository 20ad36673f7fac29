/**
 * Worker status for the dashboard. Workers register nowhere: what the service knows of one is what
 * its runs record (worker host:pid, device, progress and finish times), grouped by worker, plus
 * the worker inside this API process, which is shown before its first run too.
 */
import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import { runs, trainings } from '../../db/schema.ts';
import type { GraphQLContext } from '../context.ts';
import type { WorkerStatus } from '../generated/resolvers.ts';

/** A worker that computed nothing for this long is left out (PostgreSQL deployments see a new host:pid per restart). */
const RECENT_MS = 24 * 3600_000;

export async function listWorkers(ctx: GraphQLContext): Promise<Omit<WorkerStatus, 'training'>[]> {
  const since = new Date(Date.now() - RECENT_MS);
  const running = sql<number>`(count(*) filter (where ${runs.status} = 'running'))::int`;
  const lastSeen = sql<Date | null>`greatest(max(${runs.progressAt}), max(${runs.startedAt}), max(${runs.finishedAt}))`;
  const rows = await ctx.services.database.db
    .select({
      name: sql<string>`${runs.worker}`,
      device: sql<string>`max(${runs.device})`,
      running,
      finished: sql<number>`(count(*) filter (where ${runs.status} in ('succeeded', 'failed', 'cancelled')))::int`,
      lastSeenAt: lastSeen.mapWith(runs.finishedAt),
    })
    .from(runs)
    .where(isNotNull(runs.worker))
    .groupBy(runs.worker)
    .having(sql`${running} > 0 or ${lastSeen} > ${since.toISOString()}`)
    .orderBy(desc(lastSeen));
  // workers seen only through their trainings
  const trainingLastSeen = sql<Date | null>`greatest(max(${trainings.progressAt}), max(${trainings.startedAt}), max(${trainings.finishedAt}))`;
  const trained = await ctx.services.database.db
    .select({ name: sql<string>`${trainings.worker}`, device: sql<string>`max(${trainings.device})`, lastSeenAt: trainingLastSeen.mapWith(trainings.finishedAt) })
    .from(trainings)
    .where(isNotNull(trainings.worker))
    .groupBy(trainings.worker)
    .having(sql`(count(*) filter (where ${trainings.status} = 'running')) > 0 or ${trainingLastSeen} > ${since.toISOString()}`);
  for (const t of trained) {
    const seen = rows.find((r) => r.name === t.name);
    if (!seen) rows.push({ name: t.name, device: t.device, running: 0, finished: 0, lastSeenAt: t.lastSeenAt });
    else if (t.lastSeenAt && (!seen.lastSeenAt || t.lastSeenAt > seen.lastSeenAt)) seen.lastSeenAt = t.lastSeenAt;
  }
  rows.sort((a, b) => (b.lastSeenAt?.getTime() ?? 0) - (a.lastSeenAt?.getTime() ?? 0));
  const local = ctx.services.localWorker;
  const workers: Omit<WorkerStatus, 'training'>[] = rows.map((r) => ({ ...r, device: r.device ?? 'cpu', embedded: r.name === local?.name }));
  if (local && !workers.some((w) => w.embedded)) workers.unshift({ name: local.name, device: local.device, running: 0, finished: 0, lastSeenAt: null, embedded: true });
  return workers;
}

/** The training a worker computes now, if any. */
export async function trainingOfWorker(ctx: GraphQLContext, name: string) {
  const [row] = await ctx.services.database.db
    .select()
    .from(trainings)
    .where(and(eq(trainings.worker, name), eq(trainings.status, 'running')))
    .orderBy(desc(trainings.startedAt))
    .limit(1);
  return row ?? null;
}
