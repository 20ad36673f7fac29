/**
 * Early stopping on the validation loss with learning-rate decay on plateaus (docs/encoders.md):
 * after `patience` epochs without improvement, go back to the best weights and multiply the
 * learning rate by `factor`; stop after `maxDecays` decays, below `minLr`, or at `maxEpochs`.
 */
export interface PlateauOptions {
  patience: number;
  factor: number;
  maxDecays: number;
  minLr: number;
  maxEpochs: number;
  /** relative improvement that counts */
  tolerance: number;
}

export const PAPER_PLATEAU: PlateauOptions = { patience: 5, factor: 0.3, maxDecays: 5, minLr: 1e-4, maxEpochs: 200, tolerance: 1e-6 };

export interface PlateauDecision {
  /** this epoch's weights are the best so far */
  improved: boolean;
  /** what to do next: go on, go back to the best weights with a smaller learning rate, or stop */
  action: 'continue' | 'decay' | 'stop';
}

export interface PlateauState {
  best: number;
  bestEpoch: number;
  stale: number;
  decays: number;
  lr: number;
}

export class Plateau {
  state: PlateauState;

  constructor(
    readonly options: PlateauOptions,
    lr: number,
  ) {
    for (const [k, v] of Object.entries(options)) if (!(typeof v === 'number' && v >= 0)) throw new Error(`plateau option ${k} must be a non-negative number, got ${v}`);
    this.state = { best: Infinity, bestEpoch: -1, stale: 0, decays: 0, lr };
  }

  /** Records the validation loss of `epoch` (0-based) and says what to do next. */
  observe(epoch: number, loss: number): PlateauDecision {
    const s = this.state;
    if (!Number.isFinite(loss)) throw new Error(`validation loss is ${loss} at epoch ${epoch + 1}`);
    const improved = s.bestEpoch < 0 || loss < s.best - Math.abs(s.best) * this.options.tolerance;
    let action: PlateauDecision['action'] = 'continue';
    if (improved) {
      s.best = loss;
      s.bestEpoch = epoch;
      s.stale = 0;
    } else if (++s.stale >= this.options.patience) {
      s.stale = 0;
      s.decays++;
      s.lr *= this.options.factor;
      action = s.decays > this.options.maxDecays || s.lr < this.options.minLr ? 'stop' : 'decay';
    }
    if (epoch + 1 >= this.options.maxEpochs) action = 'stop';
    return { improved, action };
  }
}
