'use client';
import { ErrorNotice } from '@/components/pending.tsx';

export default function RootError({ error, retry }: { error: unknown; retry: () => void }) {
  return <ErrorNotice error={error} retry={retry} title="This page failed" />;
}
