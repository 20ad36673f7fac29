/**
 * An outside opinion on our protobuf: ONNX's own checker (Debian's python3-onnx) with full shape
 * inference, on an encoder and its backward graph. python3-onnx 1.12 knows opsets up to 17, so the
 * graph declares opset 17 and uses no operator whose signature changed in 18.
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
import { serialize } from '../onnx/serialize.ts';

const PYTHON = '/usr/bin/python3';
const hasOnnx = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasOnnx) console.warn('onnx.checker test skipped: Debian python3-onnx is not installed (apt install python3-onnx; .ci/run does)');

describe.runIf(hasOnnx)('onnx.checker', () => {
  it('accepts an encoder with its backward graph, and its shape inference agrees with ours', () => {
    const g = new Graph('encoder', 17);
    const p = new Parameters(g, undefined, 1);
    const image = g.input('image', 'float32', ['batch', 1, 20, 20]);
    const core = dataDrivenCore(image, p, { inputChannels: 1, channels: 8, layers: 3, inputKernel: 5, hiddenKernel: 3, batchNormEps: 1e-5 }, { training: false });
    g.output(attentionReadout(core.features, p, { neurons: 5, keyDim: 4 }), 'rates');
    appendBackward(g, { outputs: ['rates'], wrt: ['image', 'readout.query', 'core.0.conv.weight'] });
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
      expect(compared).toBeGreaterThan(50);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
