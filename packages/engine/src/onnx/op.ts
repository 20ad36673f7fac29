/**
 * What an operator is to the engine: attribute schema, shape inference, a float64 reference kernel
 * and (when it is differentiable) its vector-Jacobian product, all in one file per operator family
 * under `ops/`. The autodiff machinery never needs to know more than this interface.
 */
import type { DType } from './ndarray.ts';
import type { Ref } from './reference.ts';
import type { Dim, Shape } from './shape.ts';
import type { Node, Value } from './graph.ts';

export type AttrType = 'int' | 'float' | 'ints' | 'floats' | 'string';
export type AttrValue = number | string | number[];
export type Attrs = Record<string, AttrValue>;

export interface AttrSpec {
  type: AttrType;
  /** filled in when absent; attributes without a default are optional unless `required` */
  default?: AttrValue;
  required?: boolean;
}

export interface ValueType {
  dtype: DType;
  shape: Shape;
  /** for 1-D int64 values: the elements when known while building (Shape's output), possibly symbolic */
  known?: readonly Dim[];
}

export interface BackwardArgs {
  node: Node;
  /** upstream gradient per output; undefined where the output does not reach the differentiated outputs */
  dy: readonly (Value | undefined)[];
  /** per input: is its gradient wanted */
  needs: readonly boolean[];
}

export interface OpDef {
  readonly opType: string;
  readonly attrs: Readonly<Record<string, AttrSpec>>;
  /**
   * Checks inputs and attributes and returns the output types. May return completed attributes
   * (e.g. Conv's kernel_shape from its weight). Throw a plain Error: the graph names the node.
   */
  infer(inputs: readonly (Value | undefined)[], attrs: Attrs): { outputs: ValueType[]; attrs?: Attrs };
  /** Reference kernel in float64. */
  evaluate(inputs: readonly (Ref | undefined)[], attrs: Attrs): Ref[];
  /** Inputs through which gradients may flow ('all', or indexes; default: none, i.e. not differentiable). */
  readonly differentiable?: readonly number[] | 'all';
  /** Vector-Jacobian product: one gradient per input (undefined where not needed). */
  backward?(args: BackwardArgs): (Value | undefined)[];
}

export function defineOp(def: OpDef): OpDef {
  return def;
}
