import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../../bin/excite.js', import.meta.url));

describe('excite gradcheck --json', () => {
  it('prints one JSON line per check with op, shapes and rel_err', async () => {
    const { stdout } = await run(process.execPath, [bin, 'gradcheck', '--json', '--op', 'Conv'], { env: { ...process.env, EXCITE_DEVICE: 'cpu' } });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const l of lines) {
      expect(l.op).toBe('Conv');
      expect(l.shapes.x.length).toBe(4);
      expect(l.rel_err).toBeLessThanOrEqual(1e-3);
      expect(l.ok).toBe(true);
    }
  });

  it('fails with a clear message for an unknown op', async () => {
    const err = await run(process.execPath, [bin, 'gradcheck', '--op', 'Nope']).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/no gradient checks for op "Nope"/);
  });
});
