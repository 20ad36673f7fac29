/** Neuron lists as people type them: `0-9`, `3,5,12-14` (the CLI's --neurons SPEC within one session). */

/** The indices of a spec, in order, without repeats; throws a message for the form on a malformed spec. */
export function parseIndexSpec(spec: string, limit = 1000): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new Error(`"${part}" is not an index or a range A-B`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`the range ${part} runs backwards`);
    if (b - a + 1 + out.size > limit) throw new Error(`more than ${limit} indices`);
    for (let k = a; k <= b; k++) out.add(k);
  }
  if (!out.size) throw new Error('no indices');
  return [...out];
}

/** The shortest spec of indices: `0-3,7`. */
export function formatIndexSpec(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(',');
}
