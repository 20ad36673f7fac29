import { describe, expect, it } from 'vitest';
import { appendBackward } from '../autodiff.ts';
import { Graph } from '../graph.ts';
import { float32 } from '../ndarray.ts';
import { einsum, parseEquation } from './einsum.ts';
import { runBoth } from './run-both.ts';

describe('Einsum', () => {
  it('derives the implicit output: ellipsis axes, then letters used once, alphabetically', () => {
    expect(parseEquation('ij,jk', [2, 2]).output).toEqual(['i', 'k']);
    expect(parseEquation('ba', [2]).output).toEqual(['a', 'b']);
    expect(parseEquation('ii', [2]).output).toEqual([]);
    expect(parseEquation('...ij,jk', [4, 2])).toEqual({ inputs: [['0', '1', 'i', 'j'], ['j', 'k']], output: ['0', '1', 'i', 'k'] });
    // ellipses of different ranks share their trailing axes
    expect(parseEquation('a...,...->...a', [3, 1]).inputs).toEqual([['a', '0', '1'], ['1']]);
  });

  it('infers shapes, symbolic batch included, and names what is wrong', () => {
    const g = new Graph();
    const q = g.input('q', 'float32', ['batch', 2, 5, 8]);
    const k = g.input('k', 'float32', ['batch', 2, 7, 8]);
    expect(einsum('bhid,bhjd->bhij', q, k).shape).toEqual(['batch', 2, 5, 7]);
    expect(einsum('...id,...jd', q, k).shape).toEqual(['batch', 2, 5, 7]);
    expect(() => einsum('bhid,bhjd->bhij', q, g.input('v', 'float32', ['batch', 2, 7, 4]))).toThrow(/Einsum.*label "d" has sizes 8 and 4/);
    expect(() => einsum('ij,jk->ik', q, k)).toThrow(/operand 0 "ij" does not match its rank 4/);
    expect(() => einsum('...id,...jd->ij', q, k)).toThrow(/must keep the "\.\.\."/);
    expect(() => einsum('bhid->bhiz', q)).toThrow(/output label "z" appears in no operand/);
  });

  it('computes products, traces, diagonals and broadcast ellipses like onnxruntime', async () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 2]);
    const b = g.input('b', 'float32', [2, 3]);
    const c = g.input('c', 'float32', [2, 1, 2, 2]);
    g.output(einsum('ij,jk', a, b), 'matmul');
    g.output(einsum('ii', a), 'trace');
    g.output(einsum('ii->i', a), 'diagonal');
    g.output(einsum('ij->', b), 'total');
    g.output(einsum('...ij,jk->...ik', c, b), 'batched');
    const feeds = { a: float32([2, 2], [1, 2, 3, 4]), b: float32([2, 3], [1, 0, -1, 2, 1, 0]), c: float32([2, 1, 2, 2], [1, 2, 3, 4, 0, 1, 1, 0]) };
    const { reference, ort } = await runBoth(g, feeds);
    for (const r of [reference, ort]) {
      expect(r.matmul).toEqual({ shape: [2, 3], data: [5, 2, -1, 11, 4, -3] });
      expect(r.trace).toEqual({ shape: [], data: [5] });
      expect(r.diagonal.data).toEqual([1, 4]);
      expect(r.total.data).toEqual([3]);
      expect(r.batched).toEqual({ shape: [2, 1, 2, 3], data: [5, 2, -1, 11, 4, -3, 2, 1, 0, 1, 0, -1] });
    }
  });

  it('refuses gradients it does not derive, naming the equation', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 2]);
    g.output(einsum('ii->i', a), 'y');
    expect(() => appendBackward(g, { outputs: ['y'], wrt: ['a'] })).toThrow(/Einsum.*repeats a label/);
    const h = new Graph();
    const [p, q, r] = ['p', 'q', 'r'].map((n) => h.input(n, 'float32', [2, 2]));
    h.output(einsum('ij,jk,kl->il', p, q, r), 'y');
    expect(() => appendBackward(h, { outputs: ['y'], wrt: ['p'] })).toThrow(/no gradient for 3 operands/);
    const e = new Graph();
    e.output(einsum('...i,...i->...', e.input('u', 'float32', [3, 2]), e.input('v', 'float32', [1, 2])), 'y');
    expect(() => appendBackward(e, { outputs: ['y'], wrt: ['u', 'v'] })).toThrow(/broadcast "\.\.\." axes/);
  });
});
