/**
 * A training's curves from its trainingProgress events (earlier ones replayed first, then live):
 * the loss of every batch and the validation median r of every epoch, one series per ensemble
 * member. A resumed training's replay reads as its history, so a batch or epoch that comes again
 * (the same member and position) replaces what came after it.
 */
export interface TrainingEventLike {
  kind: 'BATCH' | 'EPOCH' | 'STATUS';
  member: number;
  epoch: number;
  batch?: number | null;
  batches?: number | null;
  loss?: number | null;
  valLoss?: number | null;
  valCorrelation?: number | null;
}

export interface MemberCurves {
  member: number;
  /** [x, loss]: x = epoch - 1 + batch / batches (fractional epochs) */
  loss: [number, number][];
  /** [epoch, median r] */
  r: [number, number][];
  /** [epoch, validation loss] */
  valLoss: [number, number][];
}

export interface TrainingCurves {
  members: MemberCurves[];
  batches: number;
  epochs: number;
}

export function emptyCurves(): TrainingCurves {
  return { members: [], batches: 0, epochs: 0 };
}

function memberOf(c: TrainingCurves, member: number): MemberCurves {
  let m = c.members.find((x) => x.member === member);
  if (!m) {
    m = { member, loss: [], r: [], valLoss: [] };
    c.members.push(m);
    c.members.sort((a, b) => a.member - b.member);
  }
  return m;
}

const cut = (points: [number, number][], x: number) => {
  const from = points.findIndex((p) => p[0] >= x);
  if (from >= 0) points.length = from;
};

/** Adds one event to the curves (in place). */
export function addEvent(c: TrainingCurves, e: TrainingEventLike): void {
  if (e.kind === 'BATCH' && e.loss != null && e.batch != null) {
    const m = memberOf(c, e.member);
    const x = e.epoch - 1 + e.batch / Math.max(1, e.batches ?? 1);
    cut(m.loss, x);
    cut(m.r, e.epoch);
    cut(m.valLoss, e.epoch);
    m.loss.push([x, e.loss]);
  } else if (e.kind === 'EPOCH' && e.valCorrelation != null) {
    const m = memberOf(c, e.member);
    cut(m.r, e.epoch);
    cut(m.valLoss, e.epoch);
    m.r.push([e.epoch, e.valCorrelation]);
    if (e.valLoss != null) m.valLoss.push([e.epoch, e.valLoss]);
  }
  c.batches = c.members.reduce((s, m) => s + m.loss.length, 0);
  c.epochs = c.members.reduce((s, m) => s + m.r.length, 0);
}

/** Curves from the stored history (epochs only): what the page shows before the stream answers. */
export function curvesFromHistory(history: readonly { member: number; epoch: number; valLoss: number; valCorrelation: number }[]): TrainingCurves {
  const c = emptyCurves();
  for (const h of history) addEvent(c, { kind: 'EPOCH', member: h.member, epoch: h.epoch, valLoss: h.valLoss, valCorrelation: h.valCorrelation });
  return c;
}

/** A histogram of values in `bins` equal bins over [lo, hi]: the bins' centres and counts. */
export function histogram(values: readonly number[], bins: number, lo: number, hi: number): { centre: number; count: number }[] {
  const width = (hi - lo) / bins;
  const out = Array.from({ length: bins }, (_, i) => ({ centre: lo + (i + 0.5) * width, count: 0 }));
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const i = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)));
    out[i].count++;
  }
  return out;
}
