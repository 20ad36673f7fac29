/** Training progress on stderr: one bar per epoch (batches) with loss and validation r (cli-progress). */
import cliProgress from 'cli-progress';
import type { EpochReport } from '@excite/engine';

export function trainingProgress(label: string, quiet = false) {
  if (quiet || !process.stderr.isTTY) {
    // non-interactive: one line per epoch
    return {
      onMember: (i: number, n: number, seed: number, kept?: boolean) => !quiet && console.error(`${label}: member ${i + 1}/${n} (seed ${seed})${kept ? ': trained by an earlier run of this command, kept' : ''}`),
      onBatch: () => undefined,
      onEpoch: (r: EpochReport) => !quiet && console.error(`${label}: epoch ${r.epoch} train ${r.trainLoss.toFixed(3)} val ${r.valLoss.toFixed(3)} r ${r.valCorrelation.toFixed(3)} lr ${r.lr.toExponential(1)}${r.improved ? ' best' : ''}${r.action === 'continue' ? '' : ` ${r.action}`} (${r.seconds.toFixed(1)} s)`),
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} {member} epoch {epoch} |{bar}| {value}/{total} batches | val loss {val} | val r {r} | lr {lr}`, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let epoch = 1;
  let member = '';
  let started = false;
  const payload = () => ({ member, epoch, val: '-', r: '-', lr: '-' });
  let last = payload();
  return {
    onMember: (i: number, n: number, seed: number, kept?: boolean) => {
      if (kept) console.error(`member ${i + 1}/${n} (seed ${seed}): trained by an earlier run of this command, kept`);
      member = n > 1 ? `[${i + 1}/${n} seed ${seed}]` : `[seed ${seed}]`;
      epoch = 1;
    },
    onBatch: (done: number, total: number) => {
      if (!started) {
        bar.start(total, 0, last);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { ...last, member, epoch });
    },
    onEpoch: (r: EpochReport) => {
      last = { member, epoch: r.epoch, val: r.valLoss.toFixed(3), r: r.valCorrelation.toFixed(3), lr: r.lr.toExponential(1) };
      bar.update(last);
      bar.stop();
      started = false;
      epoch = r.epoch + 1;
    },
    stop: () => started && bar.stop(),
  };
}
