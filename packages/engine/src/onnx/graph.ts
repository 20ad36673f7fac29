/**
 * A typed ONNX graph under construction: inputs, named weights, constants and nodes whose output
 * types are inferred as they are added (static shapes, symbolic batch dimensions).
 */
import { GraphError } from './errors.ts';
import { type DType, type NdArray, fromNumbers, isFloat, toNumbers } from './ndarray.ts';
import type { AttrValue, Attrs, OpDef } from './op.ts';
import { lookupOp } from './ops/registry.ts';
import { type Dim, type Shape, dim } from './shape.ts';

export type ValueKind = 'input' | 'weight' | 'constant' | 'node';

export class Value {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly kind: ValueKind,
    /** the node computing it (kind 'node') */
    readonly producer?: Node,
    /** its value, known at build time (kinds 'constant' and 'weight') */
    readonly data?: NdArray,
    /** 0-D or 1-D integer contents known at build time though not constant (Shape's output and shape arithmetic on it) */
    readonly symbolicContents?: readonly Dim[],
  ) {}

  /** Elements of a 0-D or 1-D integer value known while building: constant data, or shape arithmetic from Shape. */
  knownInts(): Dim[] | undefined {
    if (this.symbolicContents) return [...this.symbolicContents];
    if (this.data && this.kind === 'constant' && !isFloat(this.dtype)) return Array.from(toNumbers(this.data));
    return undefined;
  }

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}[${this.shape.join(', ')}]`;
  }
}

/** A node; A: its attributes, typed by its op's schema where the op's definition is known. */
export interface Node<A = Attrs> {
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly (Value | undefined)[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<A>;
}

export interface NodeOptions {
  /** node name (made unique); defaults to the op type */
  name?: string;
  /** number of outputs: checked (ops such as Split), or asked for (optional outputs such as MaxPool's Indices) */
  outputs?: number;
  /** use `name` as given (no scope prefix, no suffix); an error when it is taken */
  exactName?: boolean;
}

function constantKey(a: NdArray): string | undefined {
  if (a.data.length > 64) return undefined;
  return `${a.dtype}[${a.shape}]:${Array.from(a.data as ArrayLike<number | bigint>).join(',')}`;
}

export class Graph {
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly nodes: Node[] = [];
  /** named weights, in declaration order */
  readonly weights = new Map<string, Value>();
  readonly constants: Value[] = [];
  private readonly names = new Set<string>();
  private readonly constantCache = new Map<string, Value>();
  private readonly scopes: string[] = [];

  constructor(
    readonly name = 'graph',
    readonly opset = 18,
  ) {}

  /** Runs `build` with node names prefixed by `prefix/` (readable error messages and profiles). */
  scope<T>(prefix: string, build: () => T): T {
    this.scopes.push(prefix);
    try {
      return build();
    } finally {
      this.scopes.pop();
    }
  }

  private unique(base: string, exact = false): string {
    if (exact) {
      this.claim(base, 'node');
      return base;
    }
    const full = this.scopes.length ? `${this.scopes.join('/')}/${base}` : base;
    if (!this.names.has(full)) {
      this.names.add(full);
      return full;
    }
    for (let i = 1; ; i++) {
      const candidate = `${full}_${i}`;
      if (!this.names.has(candidate)) {
        this.names.add(candidate);
        return candidate;
      }
    }
  }

  private claim(name: string, what: string): void {
    if (this.names.has(name)) throw new GraphError(`${what} name "${name}" is already used in graph "${this.name}"`);
    this.names.add(name);
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    this.claim(name, 'input');
    const v = new Value(this, name, dtype, shape.map(dim), 'input');
    this.inputs.push(v);
    return v;
  }

  /** A named parameter: serialized as an initializer, or as a graph input when weights are fed. */
  weight(name: string, data: NdArray): Value {
    this.claim(name, 'weight');
    const v = new Value(this, name, data.dtype, [...data.shape], 'weight', undefined, data);
    this.weights.set(name, v);
    return v;
  }

  /** An anonymous constant (always an initializer); small ones are shared. */
  constant(data: NdArray, name = 'const'): Value {
    const key = constantKey(data);
    const hit = key === undefined ? undefined : this.constantCache.get(key);
    if (hit) return hit;
    const v = new Value(this, this.unique(name), data.dtype, [...data.shape], 'constant', undefined, data);
    this.constants.push(v);
    if (key !== undefined) this.constantCache.set(key, v);
    return v;
  }

  /** A scalar (rank 0) constant of the dtype of `like` (or the given dtype). */
  scalar(value: number, like: Value | DType = 'float32'): Value {
    return this.constant(fromNumbers(typeof like === 'string' ? like : like.dtype, [], [value]), 'scalar');
  }

  /** A 1-D int64 constant (shapes, axes, pads). */
  ints(values: readonly number[]): Value {
    return this.constant(fromNumbers('int64', [values.length], values), 'ints');
  }

  /** Adds a node; its outputs' types come from the op's shape inference. */
  node(opType: string, inputs: readonly (Value | undefined)[], attrs: Record<string, AttrValue | undefined> = {}, options: NodeOptions = {}): Value[] {
    const name = this.unique(options.name ?? opType, options.exactName);
    const op = lookupOp(opType);
    if (!op) throw new GraphError(`unknown operator "${opType}" (no definition registered)`, name, opType);
    for (const [i, v] of inputs.entries()) {
      if (v && v.graph !== this) throw new GraphError(`input ${i} "${v.name}" belongs to graph "${v.graph.name}"`, name, opType);
    }
    let normalized: Attrs;
    let outputs;
    try {
      normalized = normalizeAttrs(op, attrs);
      const inferred = op.infer(inputs, normalized, options.outputs);
      outputs = inferred.outputs;
      if (inferred.attrs) normalized = inferred.attrs;
    } catch (e) {
      if (e instanceof GraphError) throw e;
      const shapes = inputs.map((v) => (v ? `[${v.shape.join(',')}]` : '-')).join(' ');
      throw new GraphError(`${(e as Error).message} (inputs ${shapes})`, name, opType);
    }
    if (options.outputs !== undefined && options.outputs !== outputs.length) {
      throw new GraphError(`expected ${options.outputs} outputs, inference gave ${outputs.length}`, name, opType);
    }
    const node: { -readonly [K in keyof Node]: Node[K] } = { name, opType, inputs: [...inputs], outputs: [], attrs: normalized };
    node.outputs = outputs.map((t, i) => {
      const outName = outputs.length === 1 ? name : `${name}:${i}`;
      if (i > 0 || outputs.length > 1) this.names.add(outName);
      return new Value(this, outName, t.dtype, t.shape.map(dim), 'node', node, undefined, t.known?.map(dim));
    });
    this.nodes.push(node);
    return node.outputs as Value[];
  }

  /** Takes back the node just added (an importer that folded it into constants); its names stay claimed. */
  removeLastNode(node: Node): void {
    if (this.nodes.at(-1) !== node) throw new GraphError(`node "${node.name}" is not the last one added`, node.name, node.opType);
    if (this.outputs.some((o) => o.producer === node)) throw new GraphError(`node "${node.name}" computes a graph output`, node.name, node.opType);
    this.nodes.pop();
  }

  /** Marks a value as a graph output under `name` (an Identity node renames it when needed). */
  output(value: Value, name = value.name): Value {
    let v = value;
    if (v.name !== name || v.kind !== 'node' || this.outputs.includes(v)) {
      v = this.node('Identity', [value], {}, { name, exactName: true })[0];
    }
    this.outputs.push(v);
    return v;
  }

  /** Looks up any value by name. */
  value(name: string): Value {
    const v = this.valueMap().get(name);
    if (!v) throw new GraphError(`graph "${this.name}" has no value named "${name}"`);
    return v;
  }

  valueMap(): Map<string, Value> {
    const m = new Map<string, Value>();
    for (const v of [...this.inputs, ...this.weights.values(), ...this.constants]) m.set(v.name, v);
    for (const n of this.nodes) for (const o of n.outputs) m.set(o.name, o);
    return m;
  }

  /** The dtype that float constants of this graph should use. */
  floatTypeOf(v: Value): DType {
    if (!isFloat(v.dtype)) throw new GraphError(`${v.name} is ${v.dtype}, a float was expected`);
    return v.dtype;
  }
}

function normalizeAttrs(op: OpDef, attrs: Record<string, AttrValue | undefined>): Attrs {
  const out: Attrs = {};
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    const spec = op.attrs[key];
    if (!spec) throw new Error(`unknown attribute "${key}"`);
    const isList = spec.type === 'ints' || spec.type === 'floats';
    const isTensor = typeof value === 'object' && !Array.isArray(value);
    if (isList !== Array.isArray(value) || (spec.type === 'string') !== (typeof value === 'string') || (spec.type === 'tensor') !== isTensor) {
      throw new Error(`attribute "${key}" must be of type ${spec.type}, got ${JSON.stringify(value)}`);
    }
    if (spec.type === 'int' && !Number.isInteger(value)) throw new Error(`attribute "${key}" must be an integer, got ${value}`);
    if (spec.type === 'ints' && !(value as number[]).every(Number.isInteger)) throw new Error(`attribute "${key}" must be integers, got ${JSON.stringify(value)}`);
    out[key] = Array.isArray(value) ? [...value] : value;
  }
  for (const [key, spec] of Object.entries(op.attrs)) {
    if (out[key] !== undefined) continue;
    const d = spec.default;
    if (d !== undefined) out[key] = typeof d === 'object' && 'length' in d ? [...d] : (d as AttrValue);
    else if (spec.required) throw new Error(`attribute "${key}" is required`);
  }
  return out;
}

export type { Dim, Shape };
