import { describe, expect, it } from 'vitest';
import { architectureLine } from './model-summary.ts';

const input = { channels: 3, height: 64, width: 64 };

describe('architectureLine', () => {
  it("states an imported model's own architecture and its op count", () => {
    expect(architectureLine({ kind: 'ONNX', readout: null, architecture: 'ResNet-18 core + linear readout', input, members: 1, ops: 57 })).toBe('ResNet-18 core + linear readout (ONNX, 57 ops) · 64x64x3 input');
  });

  it('describes our encoders by core and readout, and compact models as ground truth', () => {
    const core = { layers: 4, channels: 32, inputKernel: 9 };
    expect(architectureLine({ kind: 'ENSEMBLE', readout: 'attention', architecture: { core }, input: { ...input, channels: 1 }, members: 2, ops: null })).toBe('core 4x32 ch, 9px kernel · attention readout · 64x64x1 input · 2 members');
    expect(architectureLine({ kind: 'COMPACT', readout: null, architecture: null, input, members: 1, ops: null })).toBe('compact CNN (ground truth) · 64x64x3 input');
  });
});
