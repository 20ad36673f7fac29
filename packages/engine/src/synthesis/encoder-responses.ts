/** An encoder's rates for images in its standardized input space, in batches (natural top-k, reconstruction targets). */
import { Graph } from '../onnx/graph.ts';
import type { NdArray } from '../onnx/ndarray.ts';
import { inline } from '../models/scoring-model.ts';
import { runBatched } from '../runtime/batched.ts';
import { type SessionCache, type SessionOptions, createSession } from '../runtime/session.ts';
import type { SynthesisEncoder } from './synthesis-encoder.ts';

export interface ResponseOptions {
  /** images per run (default 64) */
  batchSize?: number;
  session?: SessionOptions;
  /** compiled sessions kept across calls (a worker's); without it the call's session is released at its end */
  sessions?: SessionCache;
}

/** rates [N, neurons] of standardized images [N, C, H, W]. */
export async function encoderResponses(encoder: SynthesisEncoder, images: NdArray<Float32Array>, options: ResponseOptions = {}): Promise<NdArray<Float32Array>> {
  const { channels, height, width } = encoder.input;
  const [, C, H, W] = images.shape;
  if (C !== channels || H !== height || W !== width) throw new Error(`images are [${images.shape}], the encoder takes [N, ${channels}, ${height}, ${width}]`);
  let graph = encoder.graph;
  if (encoder.fromStandardized) {
    graph = new Graph('responses');
    const x = graph.input('image', 'float32', ['batch', channels, height, width]);
    graph.output(inline(encoder.graph, encoder.fromStandardized(x)), 'rates');
  }
  const session = options.sessions ? await options.sessions.forGraph(graph, {}, options.session) : await createSession(graph, {}, options.session);
  try {
    return await runBatched(session, {}, 'image', images, 'rates', options.batchSize ?? 64);
  } finally {
    if (!options.sessions) await session.release();
  }
}
