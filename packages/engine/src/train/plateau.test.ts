import { describe, expect, it } from 'vitest';
import { Plateau } from './plateau.ts';

describe('plateau schedule', () => {
  it('decays the learning rate after `patience` stale epochs and stops after the last decay', () => {
    const p = new Plateau({ patience: 2, factor: 0.5, maxDecays: 2, minLr: 1e-6, maxEpochs: 100, tolerance: 0 }, 1);
    const losses = [5, 4, 4.5, 4.2, 3.9, 3.95, 3.91, 4, 4];
    const decisions = losses.map((l, e) => p.observe(e, l));
    expect(decisions.map((d) => d.action)).toEqual(['continue', 'continue', 'continue', 'decay', 'continue', 'continue', 'decay', 'continue', 'stop']);
    expect(decisions.map((d) => d.improved)).toEqual([true, true, false, false, true, false, false, false, false]);
    expect(p.state.bestEpoch).toBe(4);
    expect(p.state.lr).toBeCloseTo(0.125);
  });

  it('stops at the epoch limit and on a non-finite loss', () => {
    const p = new Plateau({ patience: 5, factor: 0.3, maxDecays: 5, minLr: 1e-4, maxEpochs: 2, tolerance: 0 }, 1);
    expect(p.observe(0, 3)).toEqual({ improved: true, action: 'continue' });
    // the last epoch may improve and stop at once: its weights must be kept
    expect(p.observe(1, 2)).toEqual({ improved: true, action: 'stop' });
    expect(() => p.observe(2, NaN)).toThrow(/validation loss is NaN at epoch 3/);
  });
});
