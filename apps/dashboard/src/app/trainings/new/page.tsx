/**
 * Start a training: the recordings (datasets with responses) and the trained encoders (cores for
 * READOUT) are read on the server; the form starts it with a server action.
 */
import type { Dataset, Encoder } from '@excite/sdk';
import type { Metadata } from 'next';
import { RoleGate } from '@/components/role-gate.tsx';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { getSession } from '@/lib/server/session.ts';
import { TrainingForm } from './training-form.tsx';

export const metadata: Metadata = { title: 'Start a training' };

export default async function NewTrainingPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next="/trainings/new" />;
  const params = await searchParams;
  const client = session.client;
  const datasets: Dataset[] = [];
  for await (const d of client.paginate('datasets', {}, { pageSize: 200 })) if (d.kind === 'RECORDING') datasets.push(d);
  datasets.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const cores: Pick<Encoder, 'id' | 'name' | 'kind'>[] = [];
  for await (const e of client.paginate('encoders', { filter: { kind: ['ENCODER', 'ENSEMBLE'] } }, { pageSize: 200 })) cores.push({ id: e.id, name: e.name, kind: e.kind });
  const dataset = typeof params.dataset === 'string' ? params.dataset : undefined;
  return (
    <>
      <h1>Start a training</h1>
      <RoleGate viewer={session.viewer} needed="RUN" what="Starting a training">
        <TrainingForm datasets={datasets.map((d) => ({ id: d.id, name: d.name, imageCount: d.imageCount, neuronCount: d.neuronCount }))} cores={cores} prefillDataset={dataset} />
      </RoleGate>
    </>
  );
}
