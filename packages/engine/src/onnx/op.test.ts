/**
 * Type tests (checked by `tsc` in npm test; vitest runs them as no-ops): attribute types follow
 * an op's schema, in its infer, evaluate and backward and in the builders' arguments.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { NdArray } from './ndarray.ts';
import { type AttrSchema, type AttrsGiven, type AttrsOf, defineOp } from './op.ts';
import type { AveragePoolAttrs } from './ops/average-pool.ts';
import type { ConvAttrs, ConvTransposeAttrs } from './ops/conv.ts';
import type { GemmAttrs } from './ops/matmul.ts';
import type { MaxPoolAttrs } from './ops/max-pool.ts';
import type { LayerNormalizationAttrs } from './ops/normalization.ts';

const SCHEMA = {
  axis: { type: 'int', default: 0 },
  to: { type: 'int', required: true },
  perm: { type: 'ints' },
  alpha: { type: 'float', default: 1 },
  scales: { type: 'floats' },
  mode: { type: 'string', default: 'constant' },
} as const satisfies AttrSchema;

describe('attribute types from a schema', () => {
  it('ops see defaulted and required attributes, the others optional', () => {
    expectTypeOf<AttrsOf<typeof SCHEMA>>().toEqualTypeOf<{ axis: number; to: number; perm?: number[]; alpha: number; scales?: number[]; mode: string }>();
  });

  it('builders must give only the required ones', () => {
    expectTypeOf<AttrsGiven<typeof SCHEMA>>().toEqualTypeOf<{ axis?: number; to: number; perm?: number[]; alpha?: number; scales?: number[]; mode?: string }>();
  });

  it('a tensor attribute holds an NdArray', () => {
    const schema = { value: { type: 'tensor' } } as const satisfies AttrSchema;
    expectTypeOf<AttrsOf<typeof schema>>().toEqualTypeOf<{ value?: NdArray }>();
  });

  it('a default must have its attribute type', () => {
    // @ts-expect-error: a list default for an int
    void ({ axis: { type: 'int', default: [0] } } as const satisfies AttrSchema);
  });

  it('infer, evaluate and backward receive typed attributes', () => {
    defineOp({
      opType: 'Typed',
      attrs: { axis: { type: 'int', default: 0 }, perm: { type: 'ints' } },
      infer(_inputs, attrs) {
        expectTypeOf(attrs).toEqualTypeOf<{ axis: number; perm?: number[] }>();
        return { outputs: [] };
      },
      evaluate(_inputs, attrs) {
        expectTypeOf(attrs).toEqualTypeOf<{ axis: number; perm?: number[] }>();
        return [];
      },
      backward({ node }) {
        expectTypeOf(node.attrs.axis).toEqualTypeOf<number>();
        return [];
      },
    });
  });

  it('infer must return the attributes it completes when the node promises them', () => {
    const attrs = { perm: { type: 'ints' } } as const;
    // @ts-expect-error: perm is optional in the schema, evaluate is promised one
    defineOp<typeof attrs, { perm: number[] }>({ opType: 'Completing', attrs, infer: () => ({ outputs: [] }), evaluate: () => [] });
    defineOp<typeof attrs, { perm: number[] }>({ opType: 'Completing', attrs, infer: () => ({ outputs: [], attrs: { perm: [1, 0] } }), evaluate: (_i, a) => (expectTypeOf(a.perm).toEqualTypeOf<number[]>(), []) });
  });

  it('builders take the types of their op schemas', () => {
    expectTypeOf<GemmAttrs>().toEqualTypeOf<{ alpha?: number; beta?: number; transA?: number; transB?: number }>();
    expectTypeOf<AveragePoolAttrs>().toEqualTypeOf<{ count_include_pad?: number; kernel_shape: number[]; pads?: number[]; strides?: number[] }>();
    expectTypeOf<ConvAttrs['group']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<MaxPoolAttrs>().toEqualTypeOf<{ ceil_mode?: number; dilations?: number[]; kernel_shape: number[]; pads?: number[]; storage_order?: number; strides?: number[] }>();
    expectTypeOf<LayerNormalizationAttrs>().toEqualTypeOf<{ axis?: number; epsilon?: number; stash_type?: number }>();
    expectTypeOf<ConvTransposeAttrs>().toEqualTypeOf<{ dilations?: number[]; group?: number; pads?: number[]; strides?: number[]; output_padding?: number[] }>();
  });
});
