/**
 * What an operator is to the engine: attribute schema, shape inference, a float64 reference kernel
 * and (when it is differentiable) its vector-Jacobian product, all in one file per operator family
 * under `ops/`. The autodiff machinery never needs to know more than this interface.
 */
import type { DType, NdArray } from './ndarray.ts';
import type { Ref } from './reference.ts';
import type { Dim, Shape } from './shape.ts';
import type { Node, Value } from './graph.ts';

export type AttrType = 'int' | 'float' | 'ints' | 'floats' | 'string' | 'tensor';
/** a 'tensor' attribute (ONNX TensorProto, e.g. ConstantOfShape's value) holds an NdArray */
export type AttrValue = number | string | number[] | NdArray;
export type Attrs = Record<string, AttrValue>;

/** The TypeScript type of each attribute type. */
interface AttrTypes {
  int: number;
  float: number;
  ints: number[];
  floats: number[];
  string: string;
  tensor: NdArray;
}

/** One spec per type, so that a default must be of its attribute's type. */
export type AttrSpec = {
  [T in AttrType]: {
    readonly type: T;
    /** filled in when absent; attributes without a default are optional unless `required` */
    readonly default?: Readonly<AttrTypes[T]>;
    readonly required?: boolean;
  };
}[AttrType];

export type AttrSchema = Readonly<Record<string, AttrSpec>>;

/** The keys a node always carries: those with a default, and the required ones. */
type PresentKeys<S extends AttrSchema> = { [K in keyof S]: S[K] extends { default: unknown } | { required: true } ? K : never }[keyof S];
type RequiredKeys<S extends AttrSchema> = { [K in keyof S]: S[K] extends { required: true } ? K : never }[keyof S];
type Flat<T> = { [K in keyof T]: T[K] } & {};
type WithPresent<S extends AttrSchema, P extends keyof S> = Flat<
  { -readonly [K in P]: AttrTypes[S[K]['type']] } & { -readonly [K in Exclude<keyof S, P>]?: AttrTypes[S[K]['type']] }
>;

/** Attributes as an op sees them, defaults filled in (declare the schema `as const`). */
export type AttrsOf<S extends AttrSchema> = WithPresent<S, PresentKeys<S>>;
/** Attributes as a builder gives them: only the required ones must be there. */
export type AttrsGiven<S extends AttrSchema> = WithPresent<S, RequiredKeys<S>>;

export interface ValueType {
  dtype: DType;
  shape: Shape;
  /** for 0-D and 1-D integer values: the elements when known while building (shape arithmetic from Shape), possibly symbolic */
  known?: readonly Dim[];
}

export interface BackwardArgs<A = Attrs> {
  node: Node<A>;
  /** upstream gradient per output; undefined where the output does not reach the differentiated outputs */
  dy: readonly (Value | undefined)[];
  /** per input: is its gradient wanted */
  needs: readonly boolean[];
}

/**
 * What infer returns. Attributes it completes may be typed more narrowly than the normalized ones
 * (Conv's kernel_shape becomes present): then it must return them, since the node keeps what it returns.
 */
type Inferred<N, A> = { outputs: ValueType[] } & ([N] extends [A] ? { attrs?: A } : { attrs: A });

/**
 * An operator whose attributes are typed by its schema S: infer sees them normalized
 * (AttrsOf<S>), evaluate and backward as the node keeps them (A, narrower where infer completes them).
 */
export interface TypedOpDef<S extends AttrSchema, A extends AttrsOf<S> = AttrsOf<S>> {
  readonly opType: string;
  readonly attrs: S;
  /**
   * Checks inputs and attributes and returns the output types. May return completed attributes
   * (e.g. Conv's kernel_shape from its weight). Throw a plain Error: the graph names the node.
   * `outputs` is the number of outputs the caller asked for, if it did (ops with optional outputs,
   * such as MaxPool's Indices, produce them only when asked).
   */
  infer(inputs: readonly (Value | undefined)[], attrs: AttrsOf<S>, outputs?: number): Inferred<AttrsOf<S>, A>;
  /** Reference kernel in float64. */
  evaluate(inputs: readonly (Ref | undefined)[], attrs: A): Ref[];
  /** Inputs through which gradients may flow ('all', or indexes; default: none, i.e. not differentiable). */
  readonly differentiable?: readonly number[] | 'all';
  /** Vector-Jacobian product: one gradient per input (undefined where not needed). */
  backward?(args: BackwardArgs<A>): (Value | undefined)[];
}

/** An operator as the graph's generic code holds it, whatever its attributes. */
export interface OpDef {
  readonly opType: string;
  readonly attrs: AttrSchema;
  infer(inputs: readonly (Value | undefined)[], attrs: Attrs, outputs?: number): { outputs: ValueType[]; attrs?: Attrs };
  evaluate(inputs: readonly (Ref | undefined)[], attrs: Attrs): Ref[];
  readonly differentiable?: readonly number[] | 'all';
  backward?(args: BackwardArgs): (Value | undefined)[];
}

export function defineOp<const S extends AttrSchema, A extends AttrsOf<S> = AttrsOf<S>>(def: TypedOpDef<S, A>): OpDef {
  // The one cast of attributes. Sound because the graph calls infer only with attributes that
  // normalizeAttrs checked against this schema (defaults filled in, required ones present), and
  // evaluate and backward only with what infer returned, or those when it returned none, which
  // Inferred allows only when A is no narrower.
  return def as unknown as OpDef;
}
