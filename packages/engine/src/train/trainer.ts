/**
 * Training encoders on recordings (docs/encoders.md): mini-batches interleaved across sessions
 * (shared core, one readout each), AdamW, batch-norm running statistics, validation after every
 * epoch with early stopping and learning-rate decay on plateaus (or a cosine schedule over the
 * epoch budget), the best weights restored, and a checkpoint after every epoch from which a run
 * resumes exactly.
 */
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { type EncoderSpec, biasForRate, buildEncoder, readoutPrefix } from '../models/encoder.ts';
import { Graph } from '../onnx/graph.ts';
import { Rng } from '../random.ts';
import { runBatched, takeRows } from '../runtime/batched.ts';
import { type EngineSession, createSession } from '../runtime/session.ts';
import { median, pearsonPerNeuron } from '../evaluate/correlation.ts';
import { AdamW } from './adamw.ts';
import { type LrSchedule, cosineLr } from './lr-schedule.ts';
import { resumeLoop, runLoop } from './loop.ts';
import { type Objective, buildObjective } from './objective.ts';
import { PAPER_PLATEAU, Plateau, type PlateauDecision, type PlateauOptions, type PlateauState } from './plateau.ts';
import { poissonLossHost } from './poisson-loss.ts';

export interface Split {
  /** standardized images [n, 1, H, W] */
  images: NdArray<Float32Array>;
  /** responses [n, neurons] (image-major) */
  responses: Float32Array;
}

export interface SessionData {
  id: string;
  train: Split;
  val: Split;
}

export interface TrainOptions {
  spec: EncoderSpec;
  sessions: readonly SessionData[];
  seed: number;
  /** 'all', or 'readouts' on a frozen core (fit-readout) */
  trainable: 'all' | 'readouts';
  /** weights to start from (a trained core); the rest is initialized from `seed` */
  initialWeights?: ReadonlyMap<string, NdArray>;
  batchSize?: number;
  lr?: number;
  plateau?: PlateauOptions;
  /** 'plateau' (default): decays on plateaus of the validation loss; 'cosine': over plateau.maxEpochs, no plateau decays */
  schedule?: LrSchedule;
  /** batch-norm running statistics momentum (PyTorch's convention) */
  momentum?: number;
  /** augmentation: each training image shifted by up to this many pixels (edges repeated) */
  shift?: number;
  /** folder for a checkpoint after every epoch; an existing one is resumed */
  checkpoint?: string;
  threads?: number;
  onEpoch?: (report: EpochReport) => void;
  /** after each batch: batches done of the epoch's total, and the batch's Poisson loss per image */
  onBatch?: (done: number, total: number, loss: number) => void;
  /** stops training between batches (the checkpoint keeps the last finished epoch) */
  signal?: AbortSignal;
  /** a checkpoint also within an epoch once this many seconds passed since the last one */
  checkpointSeconds?: number;
  /** after each checkpoint is written whole */
  onCheckpoint?: () => Promise<void>;
  /** an abort within an epoch first checkpoints the batches done */
  checkpointOnAbort?: boolean;
}

/** What the encoder adds to the loop's checkpoint (with the best weights as a tensor file). */
interface EncoderState {
  plateau: PlateauState;
  history: EpochReport[];
  /** the epoch's training loss so far (a checkpoint within an epoch) */
  partial?: { trainLoss: number; trainImages: number };
}

export interface EpochReport {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  /** median over all neurons of the validation Pearson r */
  valCorrelation: number;
  lr: number;
  /** whether the epoch improved on the best validation loss, and what followed */
  improved: boolean;
  action: PlateauDecision['action'];
  seconds: number;
}

export interface TrainResult {
  weights: Map<string, NdArray>;
  history: EpochReport[];
  bestEpoch: number;
  /** per session, per neuron validation r with the best weights */
  valCorrelations: Map<string, number[]>;
}

const copyWeights = (w: ReadonlyMap<string, NdArray>): Map<string, NdArray> => new Map([...w].map(([k, v]) => [k, float32(v.shape, (v.data as Float32Array).slice())]));

/** Initial weights: the spec's initialization from `seed`, overridden by `initial`, readout biases at the mean rates. */
function initialWeights(options: TrainOptions): Map<string, NdArray> {
  const { spec } = options;
  const g = new Graph('init');
  const image = g.input('image', 'float32', ['batch', spec.core.inputChannels, spec.input.height, spec.input.width]);
  buildEncoder(g, image, spec, { seed: options.seed });
  const weights = new Map([...g.weights].map(([k, v]) => [k, v.data!]));
  for (const [k, v] of options.initialWeights ?? []) {
    const own = weights.get(k);
    if (!own) continue;
    if (own.shape.join() !== v.shape.join()) throw new Error(`initial weight "${k}" has shape [${v.shape}], the model expects [${own.shape}]`);
    weights.set(k, v);
  }
  for (const s of options.sessions) {
    const bias = `${readoutPrefix(s.id)}.bias`;
    if (options.initialWeights?.has(bias)) continue;
    const neurons = spec.sessions.find((x) => x.id === s.id)!.neurons.length;
    const n = s.train.responses.length / neurons;
    const b = new Float32Array(neurons);
    for (let j = 0; j < neurons; j++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += s.train.responses[i * neurons + j];
      b[j] = biasForRate(spec.readout.type, sum / n);
    }
    weights.set(bias, float32([neurons], b));
  }
  return copyWeights(weights);
}

function responseRows(r: Float32Array, neurons: number, idx: readonly number[]): NdArray<Float32Array> {
  const out = new Float32Array(idx.length * neurons);
  idx.forEach((k, i) => out.set(r.subarray(k * neurons, (k + 1) * neurons), i * neurons));
  return float32([idx.length, neurons], out);
}

const runChunked = (session: EngineSession, weights: ReadonlyMap<string, NdArray>, inputName: string, images: NdArray<Float32Array>, name: string) => runBatched(session, Object.fromEntries(weights), inputName, images, name);

export async function trainEncoder(options: TrainOptions): Promise<TrainResult> {
  const { spec } = options;
  const batchSize = options.batchSize ?? 64;
  const plateauOptions = options.plateau ?? PAPER_PLATEAU;
  const momentum = options.momentum ?? 0.1;
  const trainCore = options.trainable === 'all';
  const sessionOptions = { threads: options.threads };
  let weights = initialWeights(options);
  const rng = new Rng(options.seed * 7919 + 17);
  const optimizer = new AdamW({ lr: options.lr ?? 3e-3 });
  const initialLr = optimizer.lr;
  const cosine = options.schedule === 'cosine';
  // a cosine schedule keeps the plateau's bookkeeping (best epoch, the epoch budget) without its decays
  const plateau = new Plateau(cosine ? { ...plateauOptions, patience: Number.POSITIVE_INFINITY } : plateauOptions, optimizer.lr);
  let best = copyWeights(weights);
  const history: EpochReport[] = [];

  let partial: EncoderState['partial'];
  const saved = await resumeLoop(options.checkpoint, optimizer, rng);
  if (saved) {
    const own = saved.own.state as EncoderState;
    weights = saved.weights;
    best = saved.own.tensors.best;
    optimizer.lr = own.plateau.lr;
    plateau.state = own.plateau;
    history.push(...own.history);
    if (saved.within) partial = own.partial;
  }

  // inference graph of core + readouts, weights fed: validation and (frozen core) features
  const evalGraph = new Graph('encoder_eval');
  const image = evalGraph.input('image', 'float32', ['batch', spec.core.inputChannels, spec.input.height, spec.input.width]);
  const built = buildEncoder(evalGraph, image, spec, { weights, sessions: options.sessions.map((s) => s.id) });
  for (const [id, r] of built.rates) evalGraph.output(r, `rates.${id}`);
  evalGraph.output(built.core.features, 'features');
  const evalSession = await createSession(evalGraph, { weights: 'inputs' }, sessionOptions);
  const featureShape = built.core.features.shape.slice(1) as number[];

  // a frozen core is run once: readouts then train on its features
  const inputs = new Map<string, { train: NdArray<Float32Array>; val: NdArray<Float32Array> }>();
  for (const s of options.sessions) {
    inputs.set(s.id, trainCore ? { train: s.train.images, val: s.val.images } : { train: await runChunked(evalSession, weights, 'image', s.train.images, 'features'), val: await runChunked(evalSession, weights, 'image', s.val.images, 'features') });
  }

  const objectives = new Map<string, { objective: Objective; session: EngineSession; neurons: number }>();
  for (const s of options.sessions) {
    const objective = buildObjective({ spec, session: s.id, weights, trainCore, featureShape });
    const session = await createSession(objective.graph, { weights: 'inputs' }, sessionOptions);
    objectives.set(s.id, { objective, session, neurons: spec.sessions.find((x) => x.id === s.id)!.neurons.length });
  }

  const validate = async (w: ReadonlyMap<string, NdArray>) => {
    let loss = 0;
    const correlations = new Map<string, number[]>();
    for (const s of options.sessions) {
      const neurons = objectives.get(s.id)!.neurons;
      const rates = await runChunked(evalSession, w, 'image', s.val.images, `rates.${s.id}`);
      loss += poissonLossHost(rates.data, s.val.responses) / rates.shape[0];
      correlations.set(s.id, pearsonPerNeuron(rates.data, s.val.responses, rates.shape[0], neurons));
    }
    return { loss, correlations };
  };

  /** `at`: where the batch sits in its epoch, 0 to 1 (the cosine schedule's position) */
  type Batch = { id: string; idx: number[]; at: number };
  let started = 0;
  let trainLoss = 0;
  let trainImages = 0;
  await runLoop({
    weights: () => weights,
    optimizer,
    rng,
    start: saved?.round ?? 0,
    within: saved?.within,
    rounds: plateauOptions.maxEpochs,
    batches: () => {
      started = performance.now();
      trainLoss = partial?.trainLoss ?? 0;
      trainImages = partial?.trainImages ?? 0;
      partial = undefined;
      const batches: Omit<Batch, 'at'>[] = [];
      for (const s of options.sessions) {
        const order = rng.permutation(s.train.images.shape[0]);
        for (let i = 0; i < order.length; i += batchSize) batches.push({ id: s.id, idx: order.slice(i, i + batchSize) });
      }
      return rng.permutation(batches.length).map((b, i, order) => ({ ...batches[b], at: i / order.length }));
    },
    step: async ({ id, idx, at }, epoch) => {
      if (cosine) optimizer.lr = cosineLr(initialLr, epoch + at, plateauOptions.maxEpochs);
      const { objective, session, neurons } = objectives.get(id)!;
      const data = options.sessions.find((s) => s.id === id)!;
      let x = takeRows(inputs.get(id)!.train, idx);
      if (trainCore && options.shift) x = shiftImages(x, options.shift, rng);
      const feeds: Record<string, NdArray> = {
        ...Object.fromEntries(weights),
        [objective.input]: x,
        responses: responseRows(data.train.responses, neurons, idx),
        loss_scale: float32([], [Math.sqrt(data.train.images.shape[0] / idx.length)]),
        loss_seed: float32([], [1]),
      };
      if (objective.noiseInput) feeds[objective.noiseInput.name] = noiseFor(spec, objective.noiseInput.shape, idx.length, rng);
      const out = await session.run(feeds);
      return { loss: (out.loss.data as Float32Array)[0], grads: new Map([...objective.grads].map(([n, g]) => [n, out[g].data as Float32Array])), out, pixels: x.shape[2] * x.shape[3], images: idx.length };
    },
    label: ({ id }, epoch) => `epoch ${epoch + 1} (session ${id})`,
    afterStep: ({ loss, out, pixels }, { id, idx }) => {
      trainLoss += loss;
      trainImages += idx.length;
      for (const [layer, [m, v]] of objectives.get(id)!.objective.batchStats) updateRunning(weights, layer, out[m].data as Float32Array, out[v].data as Float32Array, momentum, idx.length * pixels);
    },
    endRound: async (epoch) => {
      const { loss: valLoss, correlations } = await validate(weights);
      const decision = plateau.observe(epoch, valLoss);
      if (decision.improved) best = copyWeights(weights);
      if (decision.action !== 'continue') weights = copyWeights(best);
      if (cosine) optimizer.lr = cosineLr(initialLr, epoch + 1, plateauOptions.maxEpochs);
      else optimizer.lr = plateau.state.lr;
      const report: EpochReport = { epoch: epoch + 1, trainLoss: trainLoss / trainImages, valLoss, valCorrelation: median([...correlations.values()].flat()), lr: optimizer.lr, improved: decision.improved, action: decision.action, seconds: (performance.now() - started) / 1000 };
      history.push(report);
      options.onEpoch?.(report);
      return decision.action === 'stop';
    },
    // every epoch, the last one too: a later run with a higher epoch limit continues from it
    checkpoint: options.checkpoint
      ? { dir: options.checkpoint, every: 1, atEnd: true, seconds: options.checkpointSeconds, written: options.onCheckpoint, saveOnAbort: options.checkpointOnAbort, own: () => ({ state: { plateau: plateau.state, history, partial: { trainLoss, trainImages } } satisfies EncoderState, tensors: { best } }) }
      : undefined,
    onBatch: options.onBatch && ((done, total, r) => options.onBatch!(done, total, r.loss / r.images)),
    signal: options.signal,
  });

  const final = await validate(best);
  await evalSession.release();
  for (const { session } of objectives.values()) await session.release();
  return { weights: best, history, bestEpoch: plateau.state.bestEpoch + 1, valCorrelations: final.correlations };
}

/** Each image [N, C, H, W] moved by a random integer offset of at most `max` pixels per axis, edges repeated. */
export function shiftImages(x: NdArray<Float32Array>, max: number, rng: Rng): NdArray<Float32Array> {
  const [N, C, H, W] = x.shape as number[];
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < N; i++) {
    const dy = Math.floor(rng.uniform() * (2 * max + 1)) - max;
    const dx = Math.floor(rng.uniform() * (2 * max + 1)) - max;
    for (let c = 0; c < C; c++) {
      const base = (i * C + c) * H * W;
      for (let y = 0; y < H; y++) {
        const sy = Math.min(H - 1, Math.max(0, y - dy));
        for (let xx = 0; xx < W; xx++) out[base + y * W + xx] = x.data[base + sy * W + Math.min(W - 1, Math.max(0, xx - dx))];
      }
    }
  }
  return float32(x.shape, out);
}

/** Dropout masks (inverted dropout) or standard normal position noise for one batch. */
function noiseFor(spec: EncoderSpec, shape: readonly (number | string)[], batch: number, rng: Rng): NdArray {
  const dims = [batch, ...(shape.slice(1) as number[])];
  const n = dims.reduce((a, b) => a * b, 1);
  if (spec.readout.type === 'gaussian') return float32(dims, rng.normals(n));
  const keep = 1 - spec.readout.dropout;
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = rng.uniform() < keep ? 1 / keep : 0;
  return float32(dims, mask);
}

/** running = (1 - m) running + m batch, with the unbiased batch variance (PyTorch's BatchNorm). */
function updateRunning(weights: Map<string, NdArray>, layer: string, batchMean: Float32Array, batchVar: Float32Array, m: number, count: number): void {
  const rm = weights.get(`${layer}.running_mean`)!.data as Float32Array;
  const rv = weights.get(`${layer}.running_var`)!.data as Float32Array;
  const unbias = count > 1 ? count / (count - 1) : 1;
  for (let c = 0; c < rm.length; c++) {
    rm[c] = (1 - m) * rm[c] + m * batchMean[c];
    rv[c] = (1 - m) * rv[c] + m * batchVar[c] * unbias;
  }
}


