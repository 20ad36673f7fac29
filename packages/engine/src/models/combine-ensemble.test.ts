import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../onnx/graph.ts';
import { evaluate } from '../onnx/evaluate.ts';
import { float32 } from '../onnx/ndarray.ts';
import { combineEnsemble } from './combine-ensemble.ts';
import { TINY_ENCODER_SPEC } from '../synthesis/testing/tiny-models.ts';
import { type EncoderSpec, buildEncoder } from './encoder.ts';
import { encoderGraph } from './encoder-graph.ts';
import { loadModel, membersOf, writeEncoder, writeEnsemble } from './model-dir.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-combine-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spec = TINY_ENCODER_SPEC;
const { height: H, width: W } = spec.input;

function weights(seed: number, s: EncoderSpec = spec) {
  const g = new Graph();
  buildEncoder(g, g.input('image', 'float32', ['batch', 1, H, W]), s, { seed });
  return new Map([...g.weights].map(([k, v]) => [k, v.data!]));
}

const image = float32([1, 1, H, W], Array.from({ length: H * W }, (_, i) => Math.sin(i / 3)));
const rates = async (dir: string) => evaluate(encoderGraph(await loadModel(dir)).graph, { image }).rates.data;

describe('combineEnsemble', () => {
  it('makes one ensemble of the members of several models, whose rates are the mean of all of theirs', async () => {
    await writeEncoder(join(root, 'a', 'member-0'), spec, weights(1), { name: 'a0', training: { seed: 1 } });
    await writeEncoder(join(root, 'a', 'member-1'), spec, weights(2), { name: 'a1', training: { seed: 2 } });
    await writeEnsemble(join(root, 'a'), ['member-0', 'member-1']);
    await writeEncoder(join(root, 'b'), spec, weights(3), { name: 'b', training: { seed: 3 } });

    const result = await combineEnsemble(join(root, 'ab'), [join(root, 'a'), join(root, 'b')], { name: 'a+b' });
    expect(result.members).toEqual(['member-0', 'member-1', 'member-2']);
    const model = await loadModel(join(root, 'ab'));
    // each member named after its new place, with its own record kept
    expect(membersOf(model).map((m) => [m.meta.name, m.meta.training?.seed])).toEqual([['a+b/member-0', 1], ['a+b/member-1', 2], ['a+b/member-2', 3]]);
    expect((model as { meta: { training?: { combined_from?: string[] } } }).meta.training?.combined_from).toEqual(['a/member-0', 'a/member-1', 'b'].map((m) => relative(process.cwd(), join(root, m))));
    // the members are copies: the new folder stands alone
    expect(readdirSync(join(root, 'ab')).sort()).toEqual(['member-0', 'member-1', 'member-2', 'model.json']);

    const [a, b, ab] = [await rates(join(root, 'a')), await rates(join(root, 'b')), await rates(join(root, 'ab'))];
    ab.forEach((v, i) => expect(v).toBeCloseTo((2 * a[i] + b[i]) / 3, 6));
  });

  it('writes nothing when the members cannot make one ensemble', async () => {
    const other = { ...spec, sessions: [{ id: 's1', neurons: [0, 2] }] };
    await writeEncoder(join(root, 'other'), other, weights(4, other));
    await expect(combineEnsemble(join(root, 'mixed'), [join(root, 'b'), join(root, 'other')])).rejects.toThrow(/other\/model\.json: has another input space, sessions or neurons than .*b\/model\.json/);
    await expect(combineEnsemble(join(root, 'twice'), [join(root, 'a'), join(root, 'a', 'member-1')])).rejects.toThrow(/member .*a\/member-1 is given twice/);
    await expect(combineEnsemble(join(root, 'missing'), [join(root, 'b'), join(root, 'nowhere')])).rejects.toThrow(/nowhere\/model\.json: does not exist/);
    await expect(combineEnsemble(join(root, 'none'), [])).rejects.toThrow(/at least one model/);
    for (const out of ['mixed', 'twice', 'missing', 'none']) expect(existsSync(join(root, out))).toBe(false);
    // an existing folder is never overwritten
    const before = await rates(join(root, 'b'));
    await expect(combineEnsemble(join(root, 'b'), [join(root, 'a')])).rejects.toThrow(/b already exists/);
    expect(await rates(join(root, 'b'))).toEqual(before);
    expect(readdirSync(root).filter((f) => f.includes('partial'))).toEqual([]);
  });
});
