'use client';
import { ErrorNotice } from '@/components/pending.tsx';

export default function RecordingError({ error, retry }: { error: unknown; retry: () => void }) {
  return <ErrorNotice error={error} retry={retry} title="The recording's analysis failed" />;
}
