import type { Metadata } from 'next';
import { BatchWatch } from './batch-watch.tsx';

export const metadata: Metadata = { title: 'Runs' };

export default async function BatchPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <BatchWatch id={id} />;
}
