/**
 * python/export_torch.py, the exporter labs run on their PyTorch encoders, driven through Debian's
 * python3-torch (and python3-onnx to read the graphs back). Skipped where torch is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON, pythonHas } from '../testing/python.ts';

const PYTHON_DIR = fileURLToPath(new URL('../../../../python', import.meta.url));
const EXPORTER = path.join(PYTHON_DIR, 'export_torch.py');
const hasTorch = pythonHas('torch');
const hasOnnx = hasTorch && pythonHas('onnx');
if (!hasTorch) console.warn('export_torch test skipped: Debian python3-torch is not installed (apt install python3-torch)');

/** Runs a Python snippet with export_model imported and `out` bound to argv[1]; returns its JSON on stdout. */
function py(body: string, out: string): unknown {
  const script = ['import json, sys, warnings', 'warnings.simplefilter("ignore")', `sys.path.insert(0, ${JSON.stringify(PYTHON_DIR)})`, 'import torch', 'from export_torch import export_model', 'out = sys.argv[1]', 'torch.manual_seed(0)', body].join('\n');
  return JSON.parse(execFileSync(PYTHON, ['-c', script, out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
}

const TINY = [
  'm = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 8, 3))',
  'spec = dict(name="tiny", architecture="conv + linear readout", input=dict(channels=2, height=8, width=10, mean=[120, 130.5], std=[60, 55]), neurons=["s1:0", "s1:1", "s1:4"], output="softplus")',
].join('\n');

/** The op types and input dims of an ONNX file, read by python3-onnx after its checker. */
function onnxSummary(file: string): { ops: string[]; input: (number | string)[]; output: (number | string)[] } {
  const script = [
    'import json, sys, onnx',
    'm = onnx.load(sys.argv[1])',
    'onnx.checker.check_model(m, full_check=True)',
    'dims = lambda v: [d.dim_value if d.HasField("dim_value") else d.dim_param for d in v.type.tensor_type.shape.dim]',
    'assert len(m.graph.input) == 1 and len(m.graph.output) == 1',
    'print(json.dumps({"ops": sorted({n.op_type for n in m.graph.node}), "input": dims(m.graph.input[0]), "output": dims(m.graph.output[0])}))',
  ].join('\n');
  return JSON.parse(execFileSync(PYTHON, ['-c', script, file], { encoding: 'utf8' }));
}

describe.runIf(hasTorch)('export_torch.py', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'excite-export-torch-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('writes a model folder: model.json by the contract and one graph with a dynamic batch axis', () => {
    const out = tempDir();
    const returned = py(`${TINY}\nprint(json.dumps(export_model(m, out, **spec)))`, out);
    const meta = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8'));
    expect(meta).toEqual(returned);
    expect(Object.keys(meta)).toEqual(['kind', 'format', 'name', 'architecture', 'input', 'neurons', 'output', 'dataKey', 'graph', 'exported']);
    expect(meta).toMatchObject({
      kind: 'onnx',
      format: 1,
      name: 'tiny',
      architecture: 'conv + linear readout',
      input: { channels: 2, height: 8, width: 10, mean: [120, 130.5], std: [60, 55] },
      neurons: ['s1:0', 's1:1', 's1:4'],
      output: 'softplus',
      dataKey: null,
      graph: 'model.onnx',
    });
    expect(meta.exported.opset).toBe(17);
    expect(meta.exported.torch).toMatch(/^\d+\.\d+/);
    expect(Number.isNaN(Date.parse(meta.exported.date))).toBe(false);
    expect(existsSync(path.join(out, 'model.onnx'))).toBe(true);
    if (hasOnnx) {
      const g = onnxSummary(path.join(out, 'model.onnx'));
      expect(g.input).toEqual(['batch', 2, 8, 10]);
      expect(g.output).toEqual(['batch', 3]);
      expect(g.ops).toContain('Conv');
    }
  });

  it('refuses a neuron count that does not match the output width, naming both, and writes nothing', () => {
    const out = tempDir();
    const r = py(
      `${TINY}\nspec["neurons"] = ["s1:0", "s1:1"]\ntry:\n    export_model(m, out, **spec)\n    print(json.dumps(None))\nexcept ValueError as e:\n    print(json.dumps(str(e)))`,
      out,
    );
    expect(r).toMatch(/output has 3 columns but neurons lists 2 neuron\(s\)/);
    expect(existsSync(path.join(out, 'model.json'))).toBe(false);
    expect(existsSync(path.join(out, 'model.onnx'))).toBe(false);
  });

  it('refuses mean/std lengths and an input size that do not fit, with messages naming them', () => {
    const out = tempDir();
    const r = py(
      [
        TINY,
        'errors = []',
        'for change in [dict(mean=[120]), dict(std=[60, 55, 50]), dict(channels=3, mean=[1, 2, 3], std=[1, 1, 1]), dict(height=9)]:',
        '    try:',
        '        export_model(m, out, **{**spec, "input": {**spec["input"], **change}})',
        '        errors.append(None)',
        '    except ValueError as e:',
        '        errors.append(str(e))',
        'print(json.dumps(errors))',
      ].join('\n'),
      out,
    ) as string[];
    expect(r[0]).toMatch(/input\.mean has 1 values but input\.channels is 2/);
    expect(r[1]).toMatch(/input\.std has 3 values but input\.channels is 2/);
    expect(r[2]).toMatch(/trial forward on input \[batch, C, H, W\] = \[2, 3, 8, 10\].*failed/);
    expect(r[3]).toMatch(/trial forward on input \[batch, C, H, W\] = \[2, 2, 9, 10\].*failed/);
  });

  it('exports one graph per session for forward(x, data_key=...), leaving the model and its BatchNorm statistics as they were', () => {
    const out = tempDir();
    const r = py(
      [
        'class Twin(torch.nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        self.core = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ELU(), torch.nn.Flatten())',
        '        self.readout = torch.nn.ModuleDict({"a-1": torch.nn.Linear(4 * 36, 2), "b/2": torch.nn.Linear(4 * 36, 3)})',
        '    def forward(self, x, data_key=None):',
        '        return self.readout[data_key](self.core(x))',
        'm = Twin().eval()',
        'before = {k: v.clone() for k, v in m.state_dict().items()}',
        'meta = export_model(m, out, name="twin", architecture="conv core + linear readouts", input=dict(channels=1, height=6, width=6, mean=[128], std=[64]),',
        '                    neurons=["a-1:0", "a-1:1", "b/2:0", "b/2:1", "b/2:2"], output="elu1", data_key="data_key")',
        'changed = [k for k, v in m.state_dict().items() if not torch.equal(v, before[k])]',
        'print(json.dumps({"meta": meta, "changed": changed, "training": m.training}))',
      ].join('\n'),
      out,
    ) as { meta: Record<string, unknown>; changed: string[]; training: boolean };
    expect(r.changed).toEqual([]);
    expect(r.training).toBe(false);
    const meta = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8'));
    expect(meta.dataKey).toBe('data_key');
    expect(meta.graph).toBeUndefined();
    expect(meta.graphs).toEqual({ 'a-1': 'a-1.onnx', 'b/2': 'b_2.onnx' });
    if (hasOnnx) {
      expect(onnxSummary(path.join(out, 'a-1.onnx')).output).toEqual(['batch', 2]);
      expect(onnxSummary(path.join(out, 'b_2.onnx')).output).toEqual(['batch', 3]);
    }
  });

  it('explains its command line with --help', () => {
    const help = execFileSync(PYTHON, [EXPORTER, '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/--module/);
    expect(help).toMatch(/export_model/);
  });
});
