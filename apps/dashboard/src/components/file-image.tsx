/** A stored image (a Blob's url) as a plain <img> through the dashboard's /files route. */
import { fileHref } from '@/lib/files.ts';

export function FileImage({ url, alt, size, testId, onClick }: { url: string; alt: string; size: number; testId?: string; onClick?: () => void }) {
  return (
    <img className="pixelated" src={fileHref(url)} alt={alt} width={size} height={size} data-testid={testId} onClick={onClick} style={onClick ? { cursor: 'zoom-in' } : undefined} />
  );
}

/** Export: a stored file saved under a name of our choosing. */
export function FileDownload({ url, fileName, label }: { url: string; fileName: string; label: string }) {
  return (
    <a href={fileHref(url, fileName)} download={fileName} title={`save ${fileName}`}>
      {label}
    </a>
  );
}
