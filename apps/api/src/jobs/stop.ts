/** Why a job (a batch of runs, or a training) stopped early: its work was dropped, or the worker is shutting down. */
export class Stop extends Error {
  constructor(readonly why: 'dropped' | 'shutdown') {
    super(why);
  }
}
