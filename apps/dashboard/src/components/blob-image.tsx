'use client';
/**
 * A stored image (a Blob's url, /blobs/<sha256>). Blobs need the bearer token, which an <img src>
 * cannot send: the bytes are fetched with it and shown from an object URL.
 */
import { useEffect, useState } from 'react';
import { useExcite } from '@/lib/excite-context.tsx';

export function useBlobUrl(blobUrl: string | undefined): { src?: string; error?: string } {
  const { client } = useExcite();
  const [state, setState] = useState<{ src?: string; error?: string }>({});
  useEffect(() => {
    if (!client || !blobUrl) return;
    const abort = new AbortController();
    let objectUrl: string | undefined;
    client.download(blobUrl, { signal: abort.signal }).then(
      (bytes) => {
        objectUrl = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>]));
        setState({ src: objectUrl });
      },
      (e: unknown) => !abort.signal.aborted && setState({ error: (e as Error).message }),
    );
    return () => {
      abort.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [client, blobUrl]);
  return state;
}

export function BlobImage({ url, alt, size, testId, onClick }: { url: string; alt: string; size: number; testId?: string; onClick?: () => void }) {
  const { src, error } = useBlobUrl(url);
  if (error) return <span className="image-missing" style={{ width: size, height: size }} title={error}>!</span>;
  if (!src) return <span className="image-placeholder" style={{ width: size, height: size }} aria-busy />;
  // eslint-disable-next-line @next/next/no-img-element -- an object URL of a token-protected blob
  return <img className="pixelated" src={src} alt={alt} width={size} height={size} data-testid={testId} onClick={onClick} style={onClick ? { cursor: 'zoom-in' } : undefined} />;
}
