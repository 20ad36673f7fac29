'use client';
import { ErrorNotice } from '@/components/pending.tsx';

export default function RecordingsError({ error, retry }: { error: unknown; retry: () => void }) {
  return <ErrorNotice error={error} retry={retry} title="The recordings view failed" />;
}
