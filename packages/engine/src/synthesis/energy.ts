/**
 * Energies over an encoder's rates, as graph builders: each declares the inputs it needs
 * (so one compiled session serves any neuron or target) and returns E per image, which synthesis
 * minimizes, and the activation that progress reports. The batch axis is the list of images being
 * synthesized together; each image has its own neuron or target.
 */
import type { Graph, Value } from '../onnx/graph.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { mul, neg, sub } from '../onnx/ops/elementwise.ts';
import { reduceMean, reduceSum } from '../onnx/ops/reduce.ts';

/** The encoder-side values an energy is a function of. */
export interface EnergyTerms {
  /** the encoder's rates [batch, neurons] */
  rates: Value;
  /** the encoder's input, in the standardized space [batch, C, H, W] (after preprocessing) */
  image: Value;
  /** `rates` is [batch, 1]: each image's own neuron (the energy's `neuronPerImage`), computed alone */
  selected?: boolean;
}

export interface EnergyGraph {
  /** E per image [batch] */
  energy: Value;
  /** what progress reports per image [batch] */
  activation: Value;
  /** values for the inputs the energy declared (constant over a run) */
  feeds: Record<string, NdArray>;
}

export interface Energy {
  /** how many images the energy is defined for (the batch) */
  readonly images: number;
  /** E_i depends on other images of the batch (a diverse set's similarity): the batch is never split (egg.ts shards) */
  readonly couplesImages?: boolean;
  /**
   * the one column of the rates each image's energy reads, when that is all it reads (MEIs): an
   * encoder that can compute single neurons (SynthesisEncoder.select) then computes only those and
   * builds the energy with `selected`
   */
  readonly neuronPerImage?: readonly number[];
  build(terms: EnergyTerms): EnergyGraph;
}

function checkNeurons(neurons: readonly number[], count: number): void {
  for (const n of neurons) if (!Number.isInteger(n) || n < 0 || n >= count) throw new Error(`neuron ${n} is not a column of the encoder's ${count} rates`);
}

function neuronCount(rates: Value): number {
  const n = rates.shape[1];
  if (typeof n !== 'number') throw new Error(`the encoder's rates must have a static number of neurons, got [${rates.shape}]`);
  return n;
}

/** One-hot rows [batch, neurons]: row i selects neuron `neurons[i]`. */
export function oneHot(neurons: readonly number[], count: number): NdArray<Float32Array> {
  const w = new Float32Array(neurons.length * count);
  neurons.forEach((n, i) => (w[i * count + n] = 1));
  return float32([neurons.length, count], w);
}

/**
 * MEI: E = -r_u(x), with u = `neurons[i]` for image i. The neuron is a one-hot input
 * `neuron_weights` [batch, neurons], so E_i = -sum_n w_in r_in: the compiled graph serves any neuron.
 */
export function meiEnergy(neurons: readonly number[]): Energy {
  return {
    images: neurons.length,
    neuronPerImage: neurons,
    build({ rates, selected }): EnergyGraph {
      if (selected) {
        const activation = reduceSum(rates, [1], false);
        return { energy: neg(activation), activation, feeds: {} };
      }
      const count = neuronCount(rates);
      checkNeurons(neurons, count);
      const g: Graph = rates.graph;
      const w = g.input('neuron_weights', rates.dtype, ['batch', count]);
      const activation = reduceSum(mul(w, rates), [1], false);
      return { energy: neg(activation), activation, feeds: { neuron_weights: oneHot(neurons, count) } };
    },
  };
}

/**
 * Reconstruction: E = mean_n (r_n(x) - target_n)^2, targets [batch, neurons] from a model's
 * responses or recorded ones (input `target_rates`). No single neuron is the target, so progress
 * reports the population's mean rate as the activation.
 */
export function reconstructionEnergy(targets: NdArray): Energy {
  const [images, count] = targets.shape;
  return {
    images,
    build({ rates }) {
      if (neuronCount(rates) !== count) throw new Error(`${count} target rates per image, the encoder has ${neuronCount(rates)} neurons`);
      const t = rates.graph.input('target_rates', rates.dtype, ['batch', count]);
      const d = sub(rates, t);
      return {
        energy: reduceMean(mul(d, d), [1], false),
        activation: reduceMean(rates, [1], false),
        feeds: { target_rates: float32(targets.shape, targets.data as ArrayLike<number>) },
      };
    },
  };
}
