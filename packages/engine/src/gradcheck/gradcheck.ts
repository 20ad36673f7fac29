/**
 * Gradient checks: the backward graph, evaluated in float64 by the reference evaluator, against
 * central finite differences of the forward graph (also float64); and onnxruntime's float32
 * results for the same graph (forward and backward) against the reference, on a chosen device.
 */
import { appendBackward } from '../onnx/autodiff.ts';
import { type Feed, evaluate, nodesFor } from '../onnx/evaluate.ts';
import { Graph } from '../onnx/graph.ts';
import { type NdArray, float32, isFloat, toNumbers } from '../onnx/ndarray.ts';
import type { Ref } from '../onnx/reference.ts';
import { resolveShape } from '../onnx/shape.ts';
import { Rng } from '../random.ts';
import type { Device } from '../runtime/device.ts';
import { createSession } from '../runtime/session.ts';

export interface GradCase {
  /** the operator (or model) the case exercises */
  op: string;
  /** what distinguishes this case */
  name: string;
  /** declares inputs (float32), weights and outputs */
  build(g: Graph): void;
  /** values of symbolic dimensions for the feeds */
  bind?: Record<string, number>;
  /** inputs to draw from [0.5, 2] instead of [-1, 1] (Log, Sqrt, Pow's base, ...) */
  positive?: readonly string[];
  /** names to differentiate with respect to (default: every float input and weight the outputs use) */
  wrt?: readonly string[];
  /** use this many random directions instead of every element */
  directions?: number;
}

export interface GradResult {
  op: string;
  case: string;
  shapes: Record<string, number[]>;
  wrt: string[];
  /** max |analytic - finite difference| / max |finite difference|, over all wrt (float64) */
  rel_err: number;
  /** max |onnxruntime - reference| / max |reference| over outputs and gradients (float32) */
  ort_err: number;
  device: Device;
  checks: number;
}

const STEP = 1e-6;
const PER_ELEMENT_LIMIT = 400;

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export async function gradcheck(c: GradCase, options: { device?: Device; seed?: number } = {}): Promise<GradResult> {
  const device = options.device ?? 'cpu';
  const rng = new Rng(options.seed ?? 1234);
  const g = new Graph(`gradcheck_${c.op}`);
  c.build(g);
  const outputs = g.outputs.map((o) => o.name);
  const used = new Set(nodesFor(g, g.outputs).flatMap((n) => n.inputs));
  const wrtNames = c.wrt ?? [...g.inputs, ...g.weights.values()].filter((v) => isFloat(v.dtype) && used.has(v)).map((v) => v.name);
  const { seeds, grads } = appendBackward(g, { outputs, wrt: wrtNames });
  const bound = new Map(Object.entries(c.bind ?? {}));

  const feeds: Record<string, NdArray> = {};
  const shapes: Record<string, number[]> = {};
  for (const input of g.inputs) {
    const shape = resolveShape(input.shape, bound);
    const n = shape.reduce((a, b) => a * b, 1);
    const positive = c.positive?.includes(input.name);
    feeds[input.name] = float32(shape, positive ? rng.uniforms(n, 0.5, 2) : seeds.includes(input) ? rng.normals(n) : rng.uniforms(n, -1, 1));
    if (!seeds.includes(input)) shapes[input.name] = shape;
  }
  for (const w of g.weights.values()) shapes[w.name] = [...w.shape] as number[];

  // L(feeds) = sum over outputs of <seed, output>, in float64
  const loss = (f: Record<string, Feed>): number => {
    const y = evaluate(g, f, outputs);
    return outputs.reduce((s, name, i) => s + dot(y[name].data, toNumbers(feeds[seeds[i].name])), 0);
  };
  const analytic = evaluate(g, feeds, grads.map((v) => v.name));

  let relErr = 0;
  let checks = 0;
  wrtNames.forEach((name, k) => {
    const base = feeds[name] ?? g.weights.get(name)!.data!;
    const x = toNumbers(base);
    const an = analytic[grads[k].name].data;
    const perturbed = (delta: (i: number) => number): number => {
      const d = { dtype: 'float64' as const, shape: base.shape, data: x.map((v, i) => v + delta(i)) };
      return loss({ ...feeds, [name]: d } as Record<string, Feed>);
    };
    if (!c.directions && x.length <= PER_ELEMENT_LIMIT) {
      const fd = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        fd[i] = (perturbed((j) => (j === i ? STEP : 0)) - perturbed((j) => (j === i ? -STEP : 0))) / (2 * STEP);
        checks++;
      }
      const err = maxAbs(an.map((v, i) => v - fd[i])) / Math.max(maxAbs(fd), 1e-12);
      relErr = Math.max(relErr, err);
    } else {
      for (let d = 0; d < (c.directions ?? 8); d++) {
        const v = Float64Array.from({ length: x.length }, () => rng.normal());
        const fd = (perturbed((i) => STEP * v[i]) - perturbed((i) => -STEP * v[i])) / (2 * STEP);
        const expected = dot(an, v);
        relErr = Math.max(relErr, Math.abs(expected - fd) / Math.max(Math.abs(fd), maxAbs(an) * 1e-6, 1e-12));
        checks++;
      }
    }
  });

  // onnxruntime (float32) against the reference, forward outputs and gradients
  const session = await createSession(g, {}, { device });
  let ortErr = 0;
  try {
    const got = await session.run(feeds);
    const reference: Record<string, Ref> = { ...evaluate(g, feeds, outputs), ...analytic };
    for (const [name, r] of Object.entries(reference)) {
      const o = toNumbers(got[name]);
      ortErr = Math.max(ortErr, maxAbs(r.data.map((v, i) => v - o[i])) / Math.max(maxAbs(r.data), 1e-6));
    }
  } finally {
    await session.release();
  }
  return { op: c.op, case: c.name, shapes, wrt: [...wrtNames], rel_err: relErr, ort_err: ortErr, device, checks };
}
