/**
 * AdamW (Loshchilov & Hutter) on host arrays, as torch.optim.AdamW computes it: decoupled weight
 * decay, then bias-corrected first and second moments.
 */
export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export class AdamW {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();

  constructor(options: AdamWOptions) {
    this.lr = options.lr;
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
  }

  /** One step for the parameters that have gradients (updated in place). */
  step(params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, ArrayLike<number>>): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    const decay = 1 - this.lr * this.weightDecay;
    for (const [name, g] of grads) {
      const p = params.get(name);
      if (!p) throw new Error(`AdamW: gradient for unknown parameter "${name}"`);
      if (g.length !== p.length) throw new Error(`AdamW: gradient of "${name}" has ${g.length} elements, the parameter ${p.length}`);
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = new Float32Array(p.length);
        v = new Float32Array(p.length);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        m[i] = this.beta1 * m[i] + (1 - this.beta1) * gi;
        v[i] = this.beta2 * v[i] + (1 - this.beta2) * gi * gi;
        p[i] = p[i] * decay - (this.lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + this.eps);
      }
    }
  }

  state(): AdamWState {
    return { step: this.t, m: Object.fromEntries(this.m), v: Object.fromEntries(this.v) };
  }

  load(state: AdamWState): void {
    this.t = state.step;
    this.m.clear();
    this.v.clear();
    for (const [k, a] of Object.entries(state.m)) this.m.set(k, Float32Array.from(a));
    for (const [k, a] of Object.entries(state.v)) this.v.set(k, Float32Array.from(a));
  }
}
