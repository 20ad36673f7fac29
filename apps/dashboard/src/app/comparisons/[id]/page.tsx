import type { Metadata } from 'next';
import { ComparisonView } from './comparison-view.tsx';

export const metadata: Metadata = { title: 'Comparison' };

export default async function ComparisonPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <ComparisonView id={id} />;
}
