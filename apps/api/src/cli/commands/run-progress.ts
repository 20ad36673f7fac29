/**
 * Runs followed on stderr: on a terminal a live bar per running run (cli-progress), replaced by
 * a line when the run ends; elsewhere only that line per run.
 */
import cliProgress from 'cli-progress';
import type { FollowHandlers, ProgressEvent, Run, RunDetails } from '@excite/sdk';

/** `GA 201025:3 seed 0` (reconstructions: the target image). */
export function runLabel(run: Pick<Run, 'method' | 'neuron' | 'targetImage' | 'seed'>): string {
  const what = run.neuron ? `${run.neuron.session}:${run.neuron.index}` : `target ${run.targetImage}`;
  return `${run.method} ${what} seed ${run.seed}`;
}

const fixed = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '-' : v.toFixed(digits));

/** One line for a finished run: its id, what it was, its status, activation and time. */
export function finishedLine(run: RunDetails): string {
  const detail = run.status === 'FAILED' ? `: ${run.error?.code} ${run.error?.message}` : '';
  return `${run.id} ${runLabel(run)}: ${run.status}${detail}, activation ${fixed(run.progress.activation)}, ${fixed(run.seconds, 1)} s`;
}

export interface ProgressView extends Required<Pick<FollowHandlers, 'onProgress' | 'onFinished'>> {
  stop(): void;
}

export function progressView(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): ProgressView {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  if (options.quiet) return { onProgress: () => undefined, onFinished: () => undefined, stop: () => undefined };
  if (!tty) return { onProgress: () => undefined, onFinished: (run) => void stream.write(`${finishedLine(run)}\n`), stop: () => undefined };

  const bars = new cliProgress.MultiBar(
    { format: '{label} |{bar}| {value}/{total} | activation {activation}', hideCursor: true, clearOnComplete: false, stream },
    cliProgress.Presets.shades_classic,
  );
  const live = new Map<string, cliProgress.SingleBar>();
  const width = 28;
  return {
    onProgress(event: ProgressEvent, run: Run) {
      const payload = { label: runLabel(run).padEnd(width), activation: fixed(event.activation) };
      let bar = live.get(run.id);
      if (!bar) live.set(run.id, (bar = bars.create(event.steps, event.step, payload)));
      else bar.update(event.step, payload);
    },
    onFinished(run: RunDetails) {
      // the line is written above the bars at the next redraw, which removing the bar forces
      bars.log(`${finishedLine(run)}\n`);
      const bar = live.get(run.id);
      live.delete(run.id);
      if (bar) bars.remove(bar);
      else bars.update();
    },
    stop: () => bars.stop(),
  };
}
