import { describe, expect, it } from 'vitest';
import { dataErrorCode } from './errors.ts';
import { jsonDepth, parseJsonWithin } from './json.ts';

describe('JSON within limits', () => {
  it('measures nesting, ignoring brackets inside strings', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('{"a": [1, {"b": []}]}')).toBe(4);
    expect(jsonDepth('{"a": "[[[[\\"{{{"}')).toBe(1);
  });

  it('refuses documents over the depth or size limit with their codes', () => {
    expect(parseJsonWithin('[[1]]', 'x.json', { maxBytes: 100, maxDepth: 2 })).toEqual([[1]]);
    expect(dataErrorCode(catching(() => parseJsonWithin('[[[1]]]', 'x.json', { maxBytes: 100, maxDepth: 2 })))).toBe('JSON_TOO_DEEP');
    expect(dataErrorCode(catching(() => parseJsonWithin(`"${'x'.repeat(100)}"`, 'x.json', { maxBytes: 100, maxDepth: 2 })))).toBe('JSON_TOO_LARGE');
    expect(catching(() => parseJsonWithin('{', 'x.json'))?.message).toMatch(/^x\.json: is not valid JSON/);
  });
});

function catching(f: () => unknown): Error | undefined {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  return undefined;
}
