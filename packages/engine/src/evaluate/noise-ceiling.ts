/**
 * How much of a neuron's response variance a model could explain, from repeated presentations
 * (responses_raw [neurons, images, repeats], NaN where a repeat is missing):
 * FEV = 1 - mean_i var_r(y_ir) / var(y), the fraction of explainable variance (the trial-to-trial
 * variance is noise no model of the image can explain), and a model's FEVE, the fraction of the
 * explainable variance it explains on single trials (Cadena et al. 2019).
 */

interface Trials {
  /** per image, the recorded repeats (NaN dropped) */
  perImage: number[][];
}

function trialsOf(raw: ArrayLike<number>, images: number, repeats: number, neuron: number, columns: readonly number[]): Trials {
  return {
    perImage: columns.map((k) => {
      const out: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const v = raw[(neuron * images + k) * repeats + r];
        if (!Number.isNaN(v)) out.push(v);
      }
      return out;
    }),
  };
}

function variance(values: readonly number[]): number {
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1);
}

export interface NeuronCeiling {
  /** fraction of explainable variance */
  fev: number;
  /** fraction of the explainable variance the predictions explain (undefined without predictions) */
  feve?: number;
}

/**
 * Per neuron FEV (and FEVE of `predictions` [images, neurons], image-major, over the same columns).
 * Images with fewer than two repeats count for the total variance but not for the noise variance.
 */
export function noiseCeiling(raw: { shape: readonly number[]; data: ArrayLike<number> }, columns: readonly number[], predictions?: { data: ArrayLike<number>; neurons: readonly number[] }): NeuronCeiling[] {
  const [neurons, images, repeats] = raw.shape;
  const chosen = predictions?.neurons ?? Array.from({ length: neurons }, (_, i) => i);
  return chosen.map((n, j) => {
    const { perImage } = trialsOf(raw.data, images, repeats, n, columns);
    const all = perImage.flat();
    const total = variance(all);
    const repeated = perImage.filter((t) => t.length > 1);
    const noise = repeated.reduce((s, t) => s + variance(t), 0) / repeated.length;
    const fev = 1 - noise / total;
    if (!predictions) return { fev };
    let mse = 0;
    perImage.forEach((t, i) => {
      const p = predictions.data[i * chosen.length + j];
      for (const y of t) mse += (y - p) ** 2;
    });
    mse /= all.length;
    return { fev, feve: 1 - (mse - noise) / (total - noise) };
  });
}
