'use server';
/**
 * The mutations the forms and buttons make, as server actions: they run on the dashboard's server
 * with the session cookie's token, so the forms need no token in the browser. Each answers its
 * result or the service's error (code and message: a thrown error would reach the browser
 * without them).
 */
import { type ExciteClient, type StartComparisonInput, type StartRunsInput, type StartTrainingInput, isExciteError } from '@excite/sdk';
import { getSession } from '@/lib/server/session.ts';

export type ActionError = { code: string; message: string };
export type ActionResult<T> = { ok: T } | { error: ActionError };

async function withClient<T>(act: (client: ExciteClient) => Promise<T>): Promise<ActionResult<T>> {
  try {
    const session = await getSession();
    if (session.status !== 'signed-in') return { error: { code: 'UNAUTHENTICATED', message: 'Not signed in (or the token was refused): sign in again.' } };
    return { ok: await act(session.client) };
  } catch (e) {
    return { error: { code: isExciteError(e) ? e.code : 'INTERNAL_SERVER_ERROR', message: (e as Error).message } };
  }
}

/** startRuns; `wholeSession` replaces `input.neurons` by every neuron of that session the generator predicts. */
export async function startRunsAction(input: StartRunsInput, wholeSession?: string): Promise<ActionResult<{ id: string }>> {
  return withClient(async (client) => {
    let neurons = input.neurons;
    if (wholeSession !== undefined) {
      neurons = [];
      for await (const n of client.paginate('neurons', { filter: { session: wholeSession, encoder: input.generator } }, { pageSize: 500 })) neurons.push({ session: n.session, index: n.index });
    }
    const batch = await client.startRuns({ input: { ...input, neurons }, runsFirst: 1 });
    return { id: batch.id };
  });
}

export async function startComparisonAction(input: StartComparisonInput): Promise<ActionResult<{ id: string }>> {
  return withClient(async (client) => ({ id: (await client.startComparison({ input })).id }));
}

export async function cancelRunAction(id: string): Promise<ActionResult<null>> {
  return withClient(async (client) => (await client.cancelRun({ id }), null));
}

export async function cancelBatchAction(id: string): Promise<ActionResult<null>> {
  return withClient(async (client) => (await client.cancelBatch({ id }), null));
}

export async function startTrainingAction(input: StartTrainingInput): Promise<ActionResult<{ id: string }>> {
  return withClient(async (client) => ({ id: (await client.startTraining({ input })).id }));
}

export async function cancelTrainingAction(id: string): Promise<ActionResult<null>> {
  return withClient(async (client) => (await client.cancelTraining({ id }), null));
}
