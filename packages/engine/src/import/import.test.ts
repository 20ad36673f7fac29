/**
 * Encoders exported from PyTorch (fixtures/onnx, made by python/make_onnx_fixtures.py) imported
 * into the engine: rates and input gradients against PyTorch's float64 forward and autograd, on
 * the CPU and (EXCITE_TEST_WEBGPU=1) on WebGPU; and the refusals: operators excite lacks, metadata
 * that contradicts the graph, external data outside the folder.
 */
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy } from '../data/npy.ts';
import { dataErrorCode } from '../data/errors.ts';
import { type OnnxMeta, importOnnxModel, loadOnnxModel } from '../models/onnx-model.ts';
import { appendBackward } from '../onnx/autodiff.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { ModelProto } from '../onnx/onnx-proto.ts';
import { readOnnxModel } from './onnx-file.ts';
import type { Device } from '../runtime/device.ts';
import { createSession } from '../runtime/session.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/onnx');
const FAMILIES = ['neuralpredictors', 'resnet', 'vit', 'recurrent'];
const devices: Device[] = process.env.EXCITE_TEST_WEBGPU === '1' ? ['cpu', 'webgpu'] : ['cpu'];

/** max |a - b| / max |b| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

const f32 = (a: NdArray) => a as NdArray<Float32Array>;

let scratch: string;
afterAll(async () => scratch && rm(scratch, { recursive: true, force: true }));
const tmp = async () => (scratch ??= await mkdtemp(join(tmpdir(), 'excite-onnx-')));

describe('ONNX encoders exported from PyTorch', () => {
  for (const family of FAMILIES) {
    for (const device of devices) {
      it(`${family}: rates within 1e-5 and input gradients within 1e-4 of PyTorch (${device})`, async () => {
        const dir = join(FIXTURES, family);
        const model = await loadOnnxModel(dir);
        const [input, output, grad, w] = await Promise.all(['input', 'output', 'grad', 'w'].map((n) => readNpy(join(dir, `${n}.npy`)).then(f32)));
        expect(model.graph.inputs[0].shape[0]).toBe('batch');
        expect(model.neurons).toHaveLength(w.shape[0]);
        // d(sum over batch and neurons of rates * w) / d image: the seed is w on every row
        appendBackward(model.graph, { outputs: ['rates'], wrt: ['image'] });
        const session = await createSession(model.graph, {}, { device });
        const batch = input.shape[0];
        const seed = float32([batch, w.shape[0]], Array.from({ length: batch }, () => Array.from(w.data)).flat());
        const out = await session.run({ image: input, rates_seed: seed });
        await session.release();
        expect(relErr(out.rates.data as Float32Array, output.data)).toBeLessThanOrEqual(1e-5);
        expect(relErr(out.image_grad.data as Float32Array, grad.data)).toBeLessThanOrEqual(1e-4);
      });
    }
  }

  it('keeps a symbolic batch: one session serves batches of 1 and 2 with the same rates', async () => {
    const dir = join(FIXTURES, 'vit');
    const model = await loadOnnxModel(dir);
    const input = f32(await readNpy(join(dir, 'input.npy')));
    const session = await createSession(model.graph);
    const both = await session.run({ image: input });
    const n = input.data.length / 2;
    const second = await session.run({ image: float32([1, ...input.shape.slice(1)], input.data.subarray(n)) });
    await session.release();
    const k = model.neurons.length;
    expect(relErr(second.rates.data as Float32Array, (both.rates.data as Float32Array).subarray(k))).toBeLessThanOrEqual(1e-6);
  });

  it('shares the core between the session graphs of a multi-session model', async () => {
    const dir = join(FIXTURES, 'neuralpredictors');
    const model = await loadOnnxModel(dir);
    const graphs = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')).graphs as Record<string, string>;
    const one = await readOnnxModel(join(dir, Object.values(graphs)[0]));
    // each session's graph holds the whole conv core; imported together it is built once
    expect(Object.keys(graphs)).toHaveLength(2);
    expect(model.graph.nodes.filter((n) => n.opType === 'Conv')).toHaveLength(one.nodes.filter((n) => n.opType === 'Conv').length);
  });
});

describe('import-onnx refuses what it cannot import, and writes nothing', () => {
  const resnet = join(FIXTURES, 'resnet');
  const resnetMeta = async (): Promise<OnnxMeta> => {
    const json = JSON.parse(await readFile(join(resnet, 'model.json'), 'utf8'));
    return { name: 'lab-resnet', architecture: json.architecture, input: json.input, neurons: json.neurons, output: json.output, dataKey: null };
  };

  it('writes a model folder that loads like the exported one', async () => {
    const out = join(await tmp(), 'lab-resnet');
    const model = await importOnnxModel({ graphs: [join(resnet, 'model.onnx')], meta: await resnetMeta(), out });
    expect(model.meta).toMatchObject({ kind: 'onnx', name: 'lab-resnet', graph: 'model.onnx', input: { channels: 3, height: 64, width: 64 } });
    expect((await readdir(out)).sort()).toEqual(['model.json', 'model.onnx']);
  });

  it('takes channels, height and width from the graph when META.json leaves them out', async () => {
    const meta = await resnetMeta();
    const { mean, std } = meta.input;
    const model = await importOnnxModel({ graphs: [join(resnet, 'model.onnx')], meta: { ...meta, input: { mean, std } }, out: join(await tmp(), 'defaults') });
    expect(model.meta.input).toMatchObject({ channels: 3, height: 64, width: 64 });
  });

  it.each([
    ['channels', (m: OnnxMeta) => ({ ...m, input: { ...m.input, channels: 1, mean: [120], std: [60] } }), /input\.channels is 1 but the graph model\.onnx takes 3/],
    ['height', (m: OnnxMeta) => ({ ...m, input: { ...m.input, height: 112 } }), /input\.height is 112 but the graph model\.onnx takes 64/],
    ['neuron count', (m: OnnxMeta) => ({ ...m, neurons: m.neurons.slice(0, 7) }), /neurons lists 7 but the graph model\.onnx gives 10 outputs/],
  ])('refuses META.json that contradicts the graph (%s), naming both values', async (_what, edit, message) => {
    const out = join(await tmp(), `contradiction-${_what.replace(' ', '-')}`);
    const e = await importOnnxModel({ graphs: [join(resnet, 'model.onnx')], meta: edit(await resnetMeta()), out }).catch((err) => err);
    expect(e.message).toMatch(message);
    expect(dataErrorCode(e)).toBe('META_CONTRADICTS_GRAPH');
    expect(await readdir(out).catch(() => 'absent')).toBe('absent');
  });

  it('refuses an operator excite lacks, naming the node, its op type and opset, and listing what is supported', async () => {
    const dir = await tmp();
    // a lab's graph with an op excite has no gradient for: the resnet's pooling as GridSample
    const proto = ModelProto.decode(await readFile(join(resnet, 'model.onnx'))) as unknown as { graph: { node: { op_type: string; name: string }[] } };
    const node = proto.graph.node.find((n) => n.op_type === 'GlobalAveragePool')!;
    node.op_type = 'GridSample';
    const file = join(dir, 'lab.onnx');
    await writeFile(file, ModelProto.encode(proto as never).finish());
    const out = join(dir, 'lab-unsupported');
    const e = await importOnnxModel({ graphs: [file], meta: await resnetMeta(), out }).catch((err) => err);
    expect(e.message).toContain(`node "${node.name}" (GridSample, opset 17) is not supported`);
    expect(e.message).toMatch(/supported.*Conv.*MaxPool/);
    expect(dataErrorCode(e)).toBe('UNSUPPORTED_OPERATOR');
    expect(await readdir(out).catch(() => 'absent')).toBe('absent');
  });

  it('reads initializers stored as external data beside the file, and refuses a location outside its folder', async () => {
    const dir = await tmp();
    type Tensor = { name: string; raw_data?: Uint8Array; data_location?: number; external_data?: { key: string; value: string }[] };
    const proto = ModelProto.decode(await readFile(join(resnet, 'model.onnx'))) as unknown as { graph: { initializer: Tensor[] } };
    const big = proto.graph.initializer.reduce((a, b) => ((b.raw_data?.byteLength ?? 0) > (a.raw_data?.byteLength ?? 0) ? b : a));
    const bytes = big.raw_data!;
    await writeFile(join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(16), bytes]));
    Object.assign(big, { raw_data: new Uint8Array(), data_location: 1, external_data: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '16' }, { key: 'length', value: String(bytes.byteLength) }] });
    await writeFile(join(dir, 'external.onnx'), ModelProto.encode(proto as never).finish());
    const model = await importOnnxModel({ graphs: [join(dir, 'external.onnx')], meta: await resnetMeta(), out: join(dir, 'external-model') });
    // the folder holds one self-contained graph
    expect((await readdir(join(dir, 'external-model'))).sort()).toEqual(['model.json', 'model.onnx']);
    const reference = await loadOnnxModel(resnet);
    expect(model.graph.weights.get(big.name)!.data!.data).toEqual(reference.graph.weights.get(big.name)!.data!.data);

    big.external_data![0].value = '../../etc/passwd';
    await writeFile(join(dir, 'escape.onnx'), ModelProto.encode(proto as never).finish());
    const e = await importOnnxModel({ graphs: [join(dir, 'escape.onnx')], meta: await resnetMeta(), out: join(dir, 'escape-model') }).catch((err) => err);
    expect(dataErrorCode(e)).toBe('PATH_OUTSIDE_FOLDER');
  });

  it('refuses a file that is not ONNX and an opset outside 13..18', async () => {
    const dir = await tmp();
    await copyFile(join(FIXTURES, 'README.md'), join(dir, 'notes.onnx'));
    const e = await importOnnxModel({ graphs: [join(dir, 'notes.onnx')], meta: await resnetMeta(), out: join(dir, 'notes-model') }).catch((err) => err);
    expect(dataErrorCode(e)).toBe('INVALID_ONNX');
    const proto = ModelProto.decode(await readFile(join(resnet, 'model.onnx'))) as unknown as { opset_import: { domain: string; version: number }[] };
    proto.opset_import = [{ domain: '', version: 9 }];
    await writeFile(join(dir, 'old.onnx'), ModelProto.encode(proto as never).finish());
    const old = await importOnnxModel({ graphs: [join(dir, 'old.onnx')], meta: await resnetMeta(), out: join(dir, 'old-model') }).catch((err) => err);
    expect(old.message).toMatch(/opset 9 .*opsets 13 to 18/);
  });
});
