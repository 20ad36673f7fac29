import { describe, expect, it } from 'vitest';
import { AdamW } from './adamw.ts';

describe('AdamW', () => {
  it('matches torch.optim.AdamW step by step', () => {
    // reference: torch 1.13, AdamW([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
    // p = [0.5, -1, 2], gradients as below, parameters printed after each step
    const expected = [
      [0.399500012, -0.899000049, 1.898000002],
      [0.31839174, -0.942322552, 1.925458193],
      [0.276575446, -0.975563645, 1.868549347],
    ];
    const grads = [
      [0.1, -0.2, 0.3],
      [1.0, 0.5, -0.5],
      [-0.3, 0.0, 2.0],
    ];
    const p = Float32Array.from([0.5, -1, 2]);
    const opt = new AdamW({ lr: 0.1, weightDecay: 0.01 });
    grads.forEach((g, k) => {
      opt.step(new Map([['p', p]]), new Map([['p', g]]));
      expected[k].forEach((v, i) => expect(p[i]).toBeCloseTo(v, 6));
    });
  });

  it('resumes from its state exactly', () => {
    const run = (split: boolean) => {
      const p = Float32Array.from([1, 2]);
      let opt = new AdamW({ lr: 0.05 });
      for (let k = 0; k < 4; k++) {
        if (split && k === 2) {
          const state = opt.state();
          opt = new AdamW({ lr: 0.05 });
          opt.load(state);
        }
        opt.step(new Map([['p', p]]), new Map([['p', [Math.sin(k), Math.cos(k)]]]));
      }
      return Array.from(p);
    };
    expect(run(true)).toEqual(run(false));
  });

  it('refuses gradients that do not fit', () => {
    const opt = new AdamW({ lr: 0.1 });
    expect(() => opt.step(new Map([['p', new Float32Array(2)]]), new Map([['q', [1, 2]]]))).toThrow(/unknown parameter "q"/);
    expect(() => opt.step(new Map([['p', new Float32Array(2)]]), new Map([['p', [1]]]))).toThrow(/1 elements, the parameter 2/);
  });
});
