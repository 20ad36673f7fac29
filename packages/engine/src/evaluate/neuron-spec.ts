/**
 * Neuron selections as users write them: `3`, `0-9`, `201025:4`, `201025:0-9,210225:0-4`.
 * A bare number is a column of the generator's outputs; `SESSION:ROW` names the session's
 * responses row, which is how models that share a session share neurons.
 */
import type { NeuronRef } from '../models/encoder-graph.ts';

export interface NeuronChoice {
  /** as written, for reports */
  label: string | number;
  column: number;
  neuron: NeuronRef;
}

function range(token: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(token.trim());
  if (!m) throw new Error(`"${token}" is not a neuron number or range A-B`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (b < a) throw new Error(`neuron range ${token} is empty`);
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

export function parseNeurons(spec: string, neurons: readonly NeuronRef[]): NeuronChoice[] {
  const out: NeuronChoice[] = [];
  for (const term of spec.split(',').map((t) => t.trim()).filter(Boolean)) {
    const colon = term.lastIndexOf(':');
    if (colon < 0) {
      for (const column of range(term)) {
        if (column >= neurons.length) throw new Error(`neuron ${column} is beyond the model's ${neurons.length} neurons`);
        out.push({ label: column, column, neuron: neurons[column] });
      }
    } else {
      const session = term.slice(0, colon);
      for (const row of range(term.slice(colon + 1))) {
        const column = neurons.findIndex((n) => n.session === session && n.neuron === row);
        if (column < 0) throw new Error(`the model has no neuron ${row} of session ${session}`);
        out.push({ label: `${session}:${row}`, column, neuron: neurons[column] });
      }
    }
  }
  if (out.length === 0) throw new Error(`no neurons in "${spec}"`);
  return out;
}
