import { describe, expect, it } from 'vitest';
import { type Analysis, correlationCeiling, featuredPair, neuronRows, pairWinner, pairedPoints, relativeSpread } from './recording-analysis.ts';

const n = (index: number) => ({ session: '201025', index });
const row = (index: number, method: 'GA' | 'EGG', response: number, bestNatural: number | null) => ({
  neuron: n(index),
  method,
  response,
  images: 1,
  bestNatural,
  bestNaturalStimulus: bestNatural === null ? null : 9,
  relativeToNatural: bestNatural !== null && bestNatural > 0 ? response / bestNatural : null,
});
const pair = (a: 'GA' | 'EGG', b: 'GA' | 'EGG' | null, effectSize: number) => ({ a, b, neurons: 2, meanDifference: 0, medianDifference: 0, aWins: 1, bWins: 1, wPlus: 1, pValue: 1, exact: true, effectSize });

const analysis: Analysis = {
  perNeuron: [row(0, 'EGG', 3, 2), row(0, 'GA', 1, 2), row(1, 'EGG', 2, 4), row(1, 'GA', 6, 4), row(2, 'EGG', 1, null), row(2, 'GA', 2, null)],
  methodPairs: [pair('EGG', 'GA', 0.5), pair('EGG', null, -0.2), pair('GA', null, 0)],
  evaluators: [],
  noiseCeiling: { meanFev: 0.5, medianFev: 0.5, neurons: [{ neuron: n(0), fev: 0.5, splitHalfR: 0.81 }, { neuron: n(1), fev: 0.4, splitHalfR: 0.64 }, { neuron: n(2), fev: null, splitHalfR: null }] },
};

describe('a recording analysis as the page shows it', () => {
  it('spreads each method over the neurons that have a best natural image', () => {
    const [egg, ga] = relativeSpread(analysis);
    expect(egg).toEqual({ method: 'EGG', points: [{ neuron: '201025:0', relative: 1.5 }, { neuron: '201025:1', relative: 0.5 }], median: 1, above: 1 });
    expect(ga.method).toBe('GA');
    expect(ga.points.map((p) => p.relative)).toEqual([0.5, 1.5]);
  });

  it('makes a row per neuron with a cell per method', () => {
    const rows = neuronRows(analysis);
    expect(rows.map((r) => r.neuron.index)).toEqual([0, 1, 2]);
    expect(rows[1]).toMatchObject({ bestNatural: 4, cells: { EGG: { response: 2 }, GA: { response: 6 } } });
  });

  it('features EGG vs GA, relative to the best natural image only when every neuron has one', () => {
    expect(featuredPair(analysis)).toEqual({ a: 'EGG', b: 'GA' });
    expect(featuredPair({ methodPairs: [pair('GA', null, 1)] })).toBeNull();
    expect(pairedPoints(analysis, 'EGG', 'GA')).toEqual({ relative: false, points: [{ neuron: '201025:0', a: 3, b: 1 }, { neuron: '201025:1', a: 2, b: 6 }, { neuron: '201025:2', a: 1, b: 2 }] });
    expect(pairedPoints({ perNeuron: analysis.perNeuron.slice(0, 4) }, 'EGG', 'GA')).toMatchObject({ relative: true, points: [{ a: 1.5, b: 0.5 }, { a: 0.5, b: 1.5 }] });
  });

  it('names the winner of a pair by the effect size, and the ceiling from the split-half reliabilities', () => {
    expect(analysis.methodPairs.map(pairWinner)).toEqual(['EGG', 'best natural', null]);
    expect(correlationCeiling(analysis.noiseCeiling)).toBeCloseTo((0.9 + 0.8) / 2, 12);
    expect(correlationCeiling({ meanFev: null, medianFev: null, neurons: [] })).toBeNull();
  });
});
