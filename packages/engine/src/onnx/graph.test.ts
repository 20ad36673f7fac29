import { describe, expect, it } from 'vitest';
import { appendBackward } from './autodiff.ts';
import { GraphError } from './errors.ts';
import { evaluate } from './evaluate.ts';
import { Graph } from './graph.ts';
import { float32 } from './ndarray.ts';
import { AttributeType } from './onnx-proto.ts';
import { conv } from './ops/conv.ts';
import { add, elu, equal, mul, where } from './ops/elementwise.ts';
import { matmul } from './ops/matmul.ts';
import { reduceSum } from './ops/reduce.ts';
import { reshape } from './ops/reshape.ts';
import { decodeModel, serialize } from './serialize.ts';

function tinyEncoder() {
  const g = new Graph('tiny');
  const x = g.input('image', 'float32', ['batch', 1, 8, 8]);
  const w = g.weight('conv.weight', float32([2, 1, 3, 3], Array.from({ length: 18 }, (_, i) => Math.sin(i))));
  const h = g.scope('core', () => elu(conv(x, w, undefined, { strides: [2, 2], pads: [1, 1, 1, 1] }), 0.5));
  const rates = g.output(reduceSum(h, [2, 3], false), 'rates');
  return { g, x, rates };
}

describe('graph builder', () => {
  it('infers static shapes with a symbolic batch', () => {
    const { g, rates } = tinyEncoder();
    expect(rates.shape).toEqual(['batch', 2]);
    expect(g.nodes.find((n) => n.opType === 'Conv')!.outputs[0].shape).toEqual(['batch', 2, 4, 4]);
    expect(g.nodes.find((n) => n.opType === 'Conv')!.name).toBe('core/Conv');
  });

  it('folds symbolic factors through reshapes', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 4, 6]);
    const y = reshape(x, [-1, 6]);
    expect(y.shape).toEqual(['4*batch', 6]);
    expect(reshape(y, ['batch', 24]).shape).toEqual(['batch', 24]);
  });

  it('names the node and the reason for an unknown operator', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    expect(() => g.node('FancyOp', [x], {}, { name: 'mine' })).toThrow(/node "mine" \(FancyOp\): unknown operator/);
  });

  it('names the node and both shapes on a shape mismatch', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 3]);
    const b = g.input('b', 'float32', [4, 5]);
    const err = (() => {
      try {
        g.scope('layer1', () => matmul(a, b));
      } catch (e) {
        return e as GraphError;
      }
    })();
    expect(err).toBeInstanceOf(GraphError);
    expect(err!.node).toBe('layer1/MatMul');
    expect(err!.message).toMatch(/inner dimensions differ: \[2,3\] x \[4,5\]/);
  });

  it('rejects attributes of the wrong type or unknown ones', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 1, 4, 4]);
    const w = g.weight('w', float32([1, 1, 3, 3]));
    expect(() => g.node('Conv', [x, w], { strides: 2 })).toThrow(/attribute "strides" must be of type ints/);
    expect(() => g.node('Conv', [x, w], { stride: [2, 2] })).toThrow(/unknown attribute "stride"/);
    expect(() => conv(x, w, undefined, { group: 2 })).toThrow(/node "Conv.*" \(Conv\)/);
  });

  it('serializes float attributes as FLOAT and int attributes as INT, with opset 18', () => {
    const { g } = tinyEncoder();
    const model = decodeModel(serialize(g)) as { ir_version: number; opset_import: { version: number }[]; graph: { node: { op_type: string; attribute: { name: string; type: number }[] }[]; input: { name: string }[]; initializer: { name: string }[] } };
    expect(model.opset_import[0].version).toBe(18);
    const eluNode = model.graph.node.find((n) => n.op_type === 'Elu')!;
    expect(eluNode.attribute.find((a) => a.name === 'alpha')!.type).toBe(AttributeType.FLOAT);
    const convNode = model.graph.node.find((n) => n.op_type === 'Conv')!;
    expect(convNode.attribute.find((a) => a.name === 'group')!.type).toBe(AttributeType.INT);
    expect(convNode.attribute.find((a) => a.name === 'pads')!.type).toBe(AttributeType.INTS);
    expect(model.graph.initializer.map((i) => i.name)).toContain('conv.weight');
    const fed = decodeModel(serialize(g, { weights: 'inputs' })) as typeof model;
    expect(fed.graph.input.map((i) => i.name)).toEqual(['image', 'conv.weight']);
  });
});

describe('backward generator errors', () => {
  it('refuses a path through a non-differentiable input', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3]);
    // the condition depends on x only through Equal, which is fine; feeding x into a shape input is not
    const y = where(equal(x, 0), x, mul(x, 2));
    g.output(y, 'y');
    expect(() => appendBackward(g, { outputs: ['y'], wrt: ['x'] })).not.toThrow();
    const g2 = new Graph();
    const w = g2.input('w', 'float32', [3]);
    const c = g2.input('c', 'float32', [3]);
    g2.output(add(c, 1), 'out');
    expect(() => appendBackward(g2, { outputs: ['out'], wrt: ['w'] })).toThrow(/does not depend on any of w/);
  });

  it('names the node where an integer value stops the gradient', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3]);
    const i = g.node('Cast', [x], { to: 7 }, { name: 'to_int' })[0];
    g.output(g.node('Cast', [i], { to: 1 }, { name: 'back' })[0], 'y');
    expect(() => appendBackward(g, { outputs: ['y'], wrt: ['x'] })).toThrow(/node "back" \(Cast\): no gradient flows into input 0 \("to_int"\), which depends on x: it is int64/);
  });

  it('only differentiates with respect to inputs and weights', () => {
    const { g } = tinyEncoder();
    expect(() => appendBackward(g, { outputs: ['rates'], wrt: ['core/Conv'] })).toThrow(/inputs and weights/);
  });
});
