import type { Metadata } from 'next';
import { ComparisonList } from './comparison-list.tsx';

export const metadata: Metadata = { title: 'Comparisons' };

export default function ComparisonsPage() {
  return <ComparisonList />;
}
