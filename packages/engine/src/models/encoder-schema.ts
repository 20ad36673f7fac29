/**
 * What an encoder's model.json must hold for its graph to be built: the core and readout
 * architecture, the input space and the sessions' neurons. A folder that a user copied, edited or
 * uploaded is checked here, so that a wrong field is named as such instead of surfacing later as a
 * weight of an unexpected shape or a convolution larger than its input.
 */
import { z } from 'zod';
import { DataFileError } from '../data/errors.ts';

// z.number() refuses NaN and the infinities
const count = z.number().int().min(1);
const nonNegative = z.number().min(0);

const core = z.object({
  inputChannels: count,
  channels: count,
  layers: count,
  inputKernel: count,
  hiddenKernel: count,
  batchNormEps: z.number().gt(0),
  laplace: nonNegative,
  laplaceStencil: z.union([z.literal(5), z.literal(9)]).optional(),
});

const attention = z.object({
  type: z.literal('attention'),
  keyDim: count,
  dropout: z.number().min(0).lt(1),
  l1: nonNegative,
  queryL1: nonNegative.optional(),
  entropy: nonNegative.optional(),
  init: z.enum(['normal', 'constant']).optional(),
  positionScale: nonNegative.optional(),
});

const gaussian = z.object({
  type: z.literal('gaussian'),
  initSigma: z.number().gt(0),
  l1: nonNegative,
});

const input = z.object({
  height: count,
  width: count,
  fit: z.enum(['resize', 'crop']),
  mean: z.number(),
  std: z.number().gt(0),
});

const session = z.object({
  id: z.string().min(1),
  neurons: z.array(z.number().int().min(0)).min(1),
});

const encoderMeta = z
  .object({
    architecture: z.object({ core, readout: z.discriminatedUnion('type', [attention, gaussian]) }),
    input,
    sessions: z.array(session).min(1),
  })
  .superRefine((m, ctx) => {
    const { core: c, readout } = m.architecture;
    // the position code splits the channels into row and column halves of sine-cosine pairs
    if (readout.type === 'attention' && c.channels % 4 !== 0)
      ctx.addIssue({ code: 'custom', path: ['architecture', 'core', 'channels'], message: `must be divisible by 4 for an attention readout, got ${c.channels}` });
    // the input convolution has no padding
    if (m.input.height < c.inputKernel || m.input.width < c.inputKernel)
      ctx.addIssue({ code: 'custom', path: ['input'], message: `${m.input.height}x${m.input.width} is smaller than the core's ${c.inputKernel}x${c.inputKernel} input kernel` });
    const ids = m.sessions.map((s) => s.id);
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice !== undefined) ctx.addIssue({ code: 'custom', path: ['sessions'], message: `session "${twice}" is listed twice` });
  });

/** Refuses an encoder's model.json (`file`) whose architecture, input or sessions cannot make a graph, naming the field. */
export function checkEncoderMeta(meta: unknown, file: string): void {
  const result = encoderMeta.safeParse(meta);
  if (result.success) return;
  const problems = result.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || 'the document'}: ${issue.message}`);
  const more = result.error.issues.length > 3 ? ` (and ${result.error.issues.length - 3} more)` : '';
  throw new DataFileError(file, `is not a valid encoder model: ${problems.join('; ')}${more}`);
}
