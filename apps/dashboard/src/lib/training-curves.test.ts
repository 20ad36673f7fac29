import { describe, expect, it } from 'vitest';
import { addEvent, curvesFromHistory, emptyCurves, histogram } from './training-curves.ts';

describe('training curves', () => {
  it('collects batch losses and epoch medians per member', () => {
    const c = emptyCurves();
    for (let epoch = 1; epoch <= 2; epoch++) {
      for (let batch = 1; batch <= 3; batch++) addEvent(c, { kind: 'BATCH', member: 0, epoch, batch, batches: 3, loss: 10 - epoch - batch / 10 });
      addEvent(c, { kind: 'EPOCH', member: 0, epoch, valLoss: 5 - epoch, valCorrelation: 0.1 * epoch });
    }
    addEvent(c, { kind: 'BATCH', member: 1, epoch: 1, batch: 1, batches: 3, loss: 9 });
    addEvent(c, { kind: 'STATUS', member: 1, epoch: 1 });
    expect(c.batches).toBe(7);
    expect(c.epochs).toBe(2);
    expect(c.members.map((m) => m.member)).toEqual([0, 1]);
    expect(c.members[0].loss[0]).toEqual([1 / 3, 10 - 1 - 0.1]);
    expect(c.members[0].loss.at(-1)![0]).toBeCloseTo(2);
    expect(c.members[0].r).toEqual([[1, 0.1], [2, 0.2]]);
    expect(c.members[0].valLoss).toEqual([[1, 4], [2, 3]]);
  });

  it('lets a resumed attempt replace what came after its checkpoint', () => {
    const c = emptyCurves();
    for (let batch = 1; batch <= 2; batch++) addEvent(c, { kind: 'BATCH', member: 0, epoch: 1, batch, batches: 2, loss: 5 });
    addEvent(c, { kind: 'EPOCH', member: 0, epoch: 1, valLoss: 4, valCorrelation: 0.3 });
    addEvent(c, { kind: 'BATCH', member: 0, epoch: 2, batch: 1, batches: 2, loss: 4 });
    // the next attempt goes on from the checkpoint after epoch 1
    addEvent(c, { kind: 'BATCH', member: 0, epoch: 2, batch: 1, batches: 2, loss: 3.5 });
    expect(c.members[0].loss.map((p) => p[1])).toEqual([5, 5, 3.5]);
    expect(c.members[0].r).toEqual([[1, 0.3]]);
  });

  it('reads the stored history as epochs', () => {
    const c = curvesFromHistory([{ member: 0, epoch: 1, valLoss: 2, valCorrelation: 0.2 }]);
    expect(c).toMatchObject({ epochs: 1, batches: 0, members: [{ r: [[1, 0.2]] }] });
  });

  it('bins values, the top edge in the last bin', () => {
    expect(histogram([-1, 0, 0.1, 0.55, 1, Number.NaN], 2, 0, 1).map((b) => b.count)).toEqual([3, 2]);
  });
});
