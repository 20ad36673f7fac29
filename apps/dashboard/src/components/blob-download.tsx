'use client';
/** Export: a stored file saved under a file name of our choosing (fetched with the token). */
import { useState } from 'react';
import { useExcite } from '@/lib/excite-context.tsx';

export function BlobDownload({ url, fileName, label }: { url: string; fileName: string; label: string }) {
  const { client } = useExcite();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const save = async () => {
    if (!client) return;
    setBusy(true);
    setError(undefined);
    try {
      const bytes = await client.download(url);
      const href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>]));
      const a = document.createElement('a');
      a.href = href;
      a.download = fileName;
      a.click();
      setTimeout(() => URL.revokeObjectURL(href), 10_000);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" className="link-button" onClick={save} disabled={busy} title={error ?? `save ${fileName}`}>
      {error ? `${label} (failed)` : label}
    </button>
  );
}
