import type { Metadata } from 'next';
import { NeuronIndex } from './neuron-index.tsx';

export const metadata: Metadata = { title: 'Neurons' };

export default function NeuronsPage() {
  return <NeuronIndex />;
}
