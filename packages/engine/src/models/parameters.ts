/**
 * Named model parameters: each is taken from a loaded weight file when one is given (checked
 * against the expected shape), otherwise initialized from a seeded generator.
 */
import type { Graph, Value } from '../onnx/graph.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { size } from '../onnx/shape.ts';
import { Rng } from '../random.ts';

export type Init = (shape: readonly number[], rng: Rng) => Float32Array;

/** He (Kaiming) normal over the fan-in of a conv or linear weight [out, in, ...]. */
export const heNormal: Init = (shape, rng) => rng.normals(size(shape), Math.sqrt(2 / size(shape.slice(1))));
export const normal =
  (std: number): Init =>
  (shape, rng) =>
    rng.normals(size(shape), std);
export const constant =
  (value: number): Init =>
  (shape) =>
    new Float32Array(size(shape)).fill(value);

export class Parameters {
  private readonly rng: Rng;
  /** names of parameters an optimizer should update (buffers such as running statistics are not) */
  readonly trainable: string[] = [];

  /**
   * @param source loaded weights by name; every declared parameter must be there
   * @param prefix prepended to graph weight names (ensemble members in one graph), not to source names
   */
  constructor(
    readonly graph: Graph,
    readonly source?: ReadonlyMap<string, NdArray>,
    seed = 0,
    readonly prefix = '',
  ) {
    this.rng = new Rng(seed);
  }

  private declare(name: string, shape: readonly number[], init: Init): Value {
    const loaded = this.source?.get(name);
    if (this.source && !loaded) throw new Error(`weights have no tensor "${name}"`);
    if (loaded && (loaded.shape.length !== shape.length || loaded.shape.some((d, i) => d !== shape[i]))) {
      throw new Error(`weight "${name}" has shape [${loaded.shape}], the model expects [${shape}]`);
    }
    return this.graph.weight(this.prefix + name, loaded ?? float32(shape, init(shape, this.rng)));
  }

  /** A trainable parameter. */
  weight(name: string, shape: readonly number[], init: Init): Value {
    this.trainable.push(this.prefix + name);
    return this.declare(name, shape, init);
  }

  /** A non-trainable buffer (e.g. running statistics). */
  buffer(name: string, shape: readonly number[], init: Init): Value {
    return this.declare(name, shape, init);
  }
}
