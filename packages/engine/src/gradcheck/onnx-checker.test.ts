/**
 * An outside opinion on our protobuf: ONNX's own checker (Debian's python3-onnx) with full shape
 * inference, on an encoder and on the operators of imported encoders, with their backward graphs.
 * python3-onnx 1.12 knows opsets up to 17, so the graphs declare opset 17 and use no operator whose
 * signature changed in 18 (hence no gradient through MaxPool and LayerNormalization, whose rules
 * use ReduceMax and ReduceMean).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attentionReadout } from '../models/attention-readout.ts';
import { dataDrivenCore } from '../models/data-driven-core.ts';
import { Parameters } from '../models/parameters.ts';
import { appendBackward } from '../onnx/autodiff.ts';
import { Graph } from '../onnx/graph.ts';
import { float32, int64 } from '../onnx/ndarray.ts';
import { einsum } from '../onnx/ops/einsum.ts';
import * as ew from '../onnx/ops/elementwise.ts';
import { constantOfShape, range } from '../onnx/ops/fill.ts';
import { globalAveragePool } from '../onnx/ops/global-pool.ts';
import { maxPool } from '../onnx/ops/max-pool.ts';
import { batchNormalization, layerNormalization } from '../onnx/ops/normalization.ts';
import { reshape, shapeOf } from '../onnx/ops/reshape.ts';
import { max, min, sum } from '../onnx/ops/variadic.ts';
import { serialize } from '../onnx/serialize.ts';
import { PYTHON, pythonHas } from '../testing/python.ts';

const hasOnnx = pythonHas('onnx');
if (!hasOnnx) console.warn('onnx.checker test skipped: Debian python3-onnx is not installed (apt install python3-onnx; .ci/run does)');

/** Runs ONNX's checker and strict shape inference on the graph; compares their shapes with ours, returns how many. */
function checkedShapes(g: Graph): number {
  const dir = mkdtempSync(path.join(tmpdir(), 'excite-checker-'));
  try {
    const file = path.join(dir, 'model.onnx');
    writeFileSync(file, serialize(g));
    const script = [
      'import json, sys, onnx',
      'm = onnx.load(sys.argv[1])',
      'onnx.checker.check_model(m, full_check=True)',
      'inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)',
      'dims = lambda t: [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.type.tensor_type.shape.dim]',
      'print(json.dumps({v.name: dims(v) for v in list(inferred.graph.value_info) + list(inferred.graph.output)}))',
    ].join('\n');
    const shapes = JSON.parse(execFileSync(PYTHON, ['-c', script, file], { encoding: 'utf8' })) as Record<string, (number | string)[]>;
    const ours = g.valueMap();
    let compared = 0;
    for (const [name, theirs] of Object.entries(shapes)) {
      const v = ours.get(name);
      if (!v || theirs.length === 0) continue;
      // ONNX names unknown symbolic products itself (unk__N): compare the static dimensions
      theirs.forEach((d, i) => {
        if (typeof d === 'number' && d > 0 && typeof v.shape[i] === 'number') expect([name, v.shape[i]]).toEqual([name, d]);
      });
      expect([name, theirs.length]).toEqual([name, v.rank]);
      compared++;
    }
    return compared;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.runIf(hasOnnx)('onnx.checker', () => {
  it('accepts an encoder with its backward graph, and its shape inference agrees with ours', () => {
    const g = new Graph('encoder', 17);
    const p = new Parameters(g, undefined, 1);
    const image = g.input('image', 'float32', ['batch', 1, 20, 20]);
    const core = dataDrivenCore(image, p, { inputChannels: 1, channels: 8, layers: 3, inputKernel: 5, hiddenKernel: 3, batchNormEps: 1e-5 }, { training: false });
    g.output(attentionReadout(core.features, p, { neurons: 5, keyDim: 4 }), 'rates');
    appendBackward(g, { outputs: ['rates'], wrt: ['image', 'readout.query', 'core.0.conv.weight'] });
    expect(checkedShapes(g)).toBeGreaterThan(50);
  });

  it('accepts the operators of imported vision encoders with their backward graphs', () => {
    const g = new Graph('imported', 17);
    const image = g.input('image', 'float32', ['batch', 3, 9, 9]);
    const w = (name: string, shape: number[]) => g.weight(name, float32(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + 1))));
    const stats = { scale: w('bn.scale', [3]), bias: w('bn.bias', [3]), mean: w('bn.mean', [3]), variance: g.constant(float32([3], [1, 2, 3])) };
    const normed0 = ew.hardSwish(batchNormalization(image, stats));
    const act = max(ew.leakyRelu(normed0, 0.1), min(ew.erf(normed0), ew.hardSigmoid(normed0)));
    const readout = einsum('bchw,nc->bnhw', act, w('readout', [4, 3])); // [b,4,9,9]
    const mask = einsum('nchw,hw->nc', readout, w('mask', [9, 9])); // [b,4]
    g.output(sum(mask, reshape(globalAveragePool(readout), ['batch', 4]), ew.dropout(mask)), 'rates');
    // forward-only: MaxPool and LayerNormalization (their gradients use opset 18's ReduceMax and ReduceMean), ConstantOfShape, Range, Mod
    g.output(maxPool(normed0, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }), 'pooled');
    const normed = layerNormalization(g.input('tokens', 'float32', ['batch', 6, 8]), w('ln.scale', [8]), w('ln.bias', [8]));
    g.output(normed, 'normed');
    const ids = range(g.constant(int64([], [0])), g.constant(int64([], [10])), g.constant(int64([], [3])));
    g.output(ew.mod(ew.add(ids, constantOfShape(shapeOf(ids), int64([1], [5]))), g.constant(int64([], [4]))), 'ids');
    appendBackward(g, { outputs: ['rates'], wrt: ['image', 'bn.scale', 'readout', 'mask'] });
    expect(checkedShapes(g)).toBeGreaterThan(30);
  });
});
