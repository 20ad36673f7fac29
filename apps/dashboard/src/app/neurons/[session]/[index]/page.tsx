import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { NeuronView } from './neuron-view.tsx';

export async function generateMetadata({ params }: { params: Promise<{ session: string; index: string }> }): Promise<Metadata> {
  const { session, index } = await params;
  return { title: `Neuron ${session}:${index}` };
}

export default async function NeuronPage({ params }: { params: Promise<{ session: string; index: string }> }) {
  const { session, index } = await params;
  if (!/^\d+$/.test(index)) notFound();
  return <NeuronView session={decodeURIComponent(session)} index={Number(index)} />;
}
