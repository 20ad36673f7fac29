/** Pearson correlation per neuron between predictions and responses, both [images, neurons]. */
export function pearsonPerNeuron(predicted: ArrayLike<number>, observed: ArrayLike<number>, images: number, neurons: number): number[] {
  const r: number[] = [];
  for (let n = 0; n < neurons; n++) {
    let sp = 0;
    let so = 0;
    for (let i = 0; i < images; i++) {
      sp += predicted[i * neurons + n];
      so += observed[i * neurons + n];
    }
    const mp = sp / images;
    const mo = so / images;
    let cov = 0;
    let vp = 0;
    let vo = 0;
    for (let i = 0; i < images; i++) {
      const a = predicted[i * neurons + n] - mp;
      const b = observed[i * neurons + n] - mo;
      cov += a * b;
      vp += a * a;
      vo += b * b;
    }
    // a constant prediction or response carries no correlation
    r.push(vp > 0 && vo > 0 ? cov / Math.sqrt(vp * vo) : 0);
  }
  return r;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
