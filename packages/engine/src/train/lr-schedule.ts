/**
 * The learning-rate schedule of encoder training (docs/encoders.md): 'plateau', the paper's (the
 * rate stays until the validation loss stops improving, then decays: plateau.ts), or 'cosine', a
 * half cosine from the initial rate down to zero over the epoch budget, stepped every batch
 * (Loshchilov & Hutter's SGDR without restarts). With 'cosine' the run ends at its epoch budget
 * and keeps the best validation epoch's weights, as with 'plateau'.
 */
export const LR_SCHEDULES = ['plateau', 'cosine'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** The rate `progress` epochs into a run of `epochs` (fractions within an epoch), from `initial` down to 0. */
export function cosineLr(initial: number, progress: number, epochs: number): number {
  if (!(epochs > 0)) throw new Error(`a cosine schedule needs a positive epoch budget, got ${epochs}`);
  const at = Math.min(Math.max(progress / epochs, 0), 1);
  return 0.5 * initial * (1 + Math.cos(Math.PI * at));
}
