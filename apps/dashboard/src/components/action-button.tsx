'use client';
/** A button that runs a server action (cancel a run or a batch), then re-reads the page on the server. */
import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import type { ActionResult } from '@/app/actions.ts';
import { ErrorNotice } from './pending.tsx';

export function ActionButton({ action, label, className, failed }: { action: () => Promise<ActionResult<unknown>>; label: string; className?: string; failed: string }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<{ code: string; message: string }>();
  const run = () =>
    startTransition(async () => {
      setError(undefined);
      const result = await action();
      if ('error' in result) setError(result.error);
      else router.refresh();
    });
  return (
    <>
      <button type="button" className={className} onClick={run} disabled={pending}>
        {label}
      </button>
      {error && <ErrorNotice error={error} title={failed} />}
    </>
  );
}
