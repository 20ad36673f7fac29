'use client';
import { ErrorNotice } from '@/components/pending.tsx';

export default function LaunchError({ error, retry }: { error: unknown; retry: () => void }) {
  return <ErrorNotice error={error} retry={retry} title="The launch form failed" />;
}
