/**
 * A client command of the `excite` CLI run in the test's own process against a test service:
 * `connection` (its --url and --token) follows the arguments, and what the command printed on
 * stdout and stderr is captured.
 */
import type { Command } from 'commander';
import { vi } from 'vitest';

export async function runCommand(command: Command, args: readonly string[], connection: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(`${line}\n`));
  vi.spyOn(console, 'error').mockImplementation((line: string) => void err.push(`${line}\n`));
  try {
    await command.exitOverride().parseAsync([...args, ...connection], { from: 'user' });
  } finally {
    vi.restoreAllMocks();
  }
  return { stdout: out.join(''), stderr: err.join('') };
}
