/**
 * What the overview says of a model from its metadata (model.json as the service returns it):
 * the architecture in a line, and held-out predictive performance (median Pearson r per session).
 */
import type { Encoder } from '@excite/sdk';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function architectureLine(encoder: Pick<Encoder, 'kind' | 'readout' | 'architecture' | 'input' | 'members' | 'ops'>): string {
  const arch = isObject(encoder.architecture) ? encoder.architecture : {};
  const core = isObject(arch.core) ? arch.core : undefined;
  const parts: string[] = [];
  // an imported model: the lab's own description of its architecture, and the size of the graph excite differentiates
  if (encoder.kind === 'ONNX') parts.push(`${typeof encoder.architecture === 'string' ? encoder.architecture : 'imported'} (ONNX, ${encoder.ops ?? '?'} ops)`);
  else if (core) parts.push(`core ${core.layers ?? '?'}x${core.channels ?? '?'} ch${core.inputKernel ? `, ${core.inputKernel}px kernel` : ''}`);
  else if (encoder.kind === 'COMPACT') parts.push('compact CNN (ground truth)');
  if (encoder.readout) parts.push(`${encoder.readout} readout`);
  parts.push(`${encoder.input.width}x${encoder.input.height}x${encoder.input.channels} input`);
  if (encoder.members > 1) parts.push(`${encoder.members} members`);
  return parts.join(' · ');
}

export interface Performance {
  split: string;
  session: string;
  medianR: number;
}

/** Median r of every split and session the metrics state ({validation: {201025: {median_r}}}), any nesting of one level. */
export function predictivePerformance(metrics: unknown): Performance[] {
  if (!isObject(metrics)) return [];
  const out: Performance[] = [];
  for (const [split, sessions] of Object.entries(metrics)) {
    if (!isObject(sessions)) continue;
    if (typeof sessions.median_r === 'number') out.push({ split, session: '', medianR: sessions.median_r });
    for (const [session, m] of Object.entries(sessions)) if (isObject(m) && typeof m.median_r === 'number') out.push({ split, session, medianR: m.median_r });
  }
  return out;
}
