/**
 * The paper-scale encoder of the benchmarks (5-layer data-driven core with 96 channels and an
 * attention readout of 1000 neurons, seeded random weights) and its export to torch_encoder.py,
 * which runs the same weights in PyTorch.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { attentionReadout } from '../src/models/attention-readout.ts';
import { PAPER_CORE, dataDrivenCore } from '../src/models/data-driven-core.ts';
import { Parameters } from '../src/models/parameters.ts';
import type { NeuronSelector } from '../src/models/scoring-model.ts';
import { Graph } from '../src/onnx/graph.ts';

export const PAPER_NEURONS = 1000;
export const PAPER_KEY_DIM = 128;

/** Input `image` [batch, 1, size, size], output `rates` [batch, 1000]. */
export function paperEncoder(size: number, seed = 42): Graph {
  const g = new Graph('paper_encoder');
  const p = new Parameters(g, undefined, seed);
  const image = g.input('image', 'float32', ['batch', 1, size, size]);
  const core = dataDrivenCore(image, p, PAPER_CORE, { training: false });
  g.output(attentionReadout(core.features, p, { neurons: PAPER_NEURONS, keyDim: PAPER_KEY_DIM }), 'rates');
  return g;
}

/**
 * The same encoder computing one neuron per image (what synthesis uses for MEIs:
 * SynthesisEncoder.select): input `neuron` (int64 [batch]) besides `image`, output `rates` [batch, 1].
 */
export function paperEncoderSelector(full: Graph, size: number): NeuronSelector {
  const g = new Graph('paper_encoder_selected');
  const p = new Parameters(g, new Map([...full.weights].map(([name, w]) => [name, w.data!])));
  const image = g.input('image', 'float32', ['batch', 1, size, size]);
  const neuron = g.input('neuron', 'int64', ['batch']);
  const core = dataDrivenCore(image, p, PAPER_CORE, { training: false });
  g.output(attentionReadout(core.features, p, { neurons: PAPER_NEURONS, keyDim: PAPER_KEY_DIM }, { select: neuron }), 'rates');
  return (columns) => ({ graph: g, rows: [...columns] });
}

/** Writes the encoder's weights as torch_encoder.py reads them: manifest.json and one raw float32 file per weight. */
export function exportForTorch(g: Graph, dir: string, size: number, extra: Record<string, unknown> = {}): void {
  const weights = [...g.weights.values()];
  weights.forEach((w, i) => writeFileSync(path.join(dir, `${i}.bin`), w.data!.data as Float32Array));
  const manifest = { weights: weights.map((w) => [w.name, w.shape]), config: { ...PAPER_CORE, size, neurons: PAPER_NEURONS }, ...extra };
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
}
