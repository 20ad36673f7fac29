'use client';
/**
 * The upload zone: a dataset folder's files (images.zip or JPEG/PNG images, and responses.npy for
 * a recording: docs/formats.md, Dataset folders) dropped on it (files or the folder itself) or
 * chosen with the pickers, sent to the dashboard's /datasets/upload (which passes them on to the
 * API with the session's token) by XMLHttpRequest, whose upload progress drives the bar. The
 * dataset's name is the session's name of a recording: the folder's name unless one is typed.
 */
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type DragEvent, type FormEvent, useRef, useState } from 'react';
import { formatBytes } from '@/lib/bytes.ts';
import { ErrorNotice } from '@/components/pending.tsx';

const ACCEPTED = /^(images\.zip|responses\.npy)$|\.(jpe?g|png)$/i;

interface Picked {
  file: File;
  /** the folder it came from, if any */
  folder?: string;
}

type Uploaded = { id: string; name: string; kind: string; images: number; neurons: number | null; created: boolean };

/** Every file under a dropped folder (the File and Directory Entries API). */
async function filesOf(entry: FileSystemEntry, folder?: string): Promise<Picked[]> {
  if (entry.isFile) return [{ file: await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail)), folder }];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: Picked[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) break;
    for (const e of batch) out.push(...(await filesOf(e, folder ?? entry.name)));
  }
  return out;
}

export function UploadZone() {
  const router = useRouter();
  const input = useRef<HTMLInputElement>(null);
  const [picked, setPicked] = useState<Picked[]>([]);
  const [name, setName] = useState('');
  const [over, setOver] = useState(false);
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [phase, setPhase] = useState<'idle' | 'sending' | 'checking'>('idle');
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<Uploaded>();

  const accepted = picked.filter((p) => ACCEPTED.test(p.file.name));
  const ignored = picked.filter((p) => !ACCEPTED.test(p.file.name));
  const folder = picked.find((p) => p.folder)?.folder;
  const total = accepted.reduce((s, p) => s + p.file.size, 0);

  const choose = (files: Picked[]) => {
    setPicked(files);
    setDone(undefined);
    setError(undefined);
    setProgress(null);
  };
  const fromList = (list: FileList | null) => choose(Array.from(list ?? [], (file) => ({ file, folder: file.webkitRelativePath.split('/').slice(0, -1)[0] || undefined })));

  async function drop(e: DragEvent) {
    e.preventDefault();
    setOver(false);
    const entries = Array.from(e.dataTransfer.items, (i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
    if (entries.length) choose((await Promise.all(entries.map((en) => filesOf(en)))).flat());
    else fromList(e.dataTransfer.files);
  }

  function send(e: FormEvent) {
    e.preventDefault();
    const form = new FormData();
    const datasetName = name.trim() || folder;
    if (datasetName) form.append('name', datasetName);
    for (const p of accepted) form.append('file', p.file, p.file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/datasets/upload');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (ev) => setProgress({ sent: ev.loaded, total: ev.lengthComputable ? ev.total : total });
    xhr.upload.onload = () => setPhase('checking');
    xhr.onerror = () => {
      setPhase('idle');
      setError({ code: 'NETWORK_ERROR', message: 'The upload did not reach the dashboard.' });
    };
    xhr.onload = () => {
      setPhase('idle');
      const body = xhr.response as { dataset?: Uploaded; error?: { code: string; message: string } } | null;
      if (xhr.status < 300 && body?.dataset) {
        setDone(body.dataset);
        setPicked([]);
        setName('');
        router.refresh();
      } else setError(body?.error ?? { code: `HTTP_${xhr.status}`, message: xhr.statusText || 'The upload was refused.' });
    };
    setError(undefined);
    setDone(undefined);
    setPhase('sending');
    setProgress({ sent: 0, total });
    xhr.send(form);
  }

  const busy = phase !== 'idle';
  return (
    <form className="upload-form" onSubmit={send} aria-label="upload a dataset">
      <div
        className={`upload-zone${over ? ' over' : ''}`}
        data-testid="upload-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
        onClick={() => input.current?.click()}
        onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && input.current?.click()}
        role="button"
        tabIndex={0}
      >
        Drop a dataset folder or its files here (<code>images.zip</code> or JPEG/PNG images, and <code>responses.npy</code> for a recording), or click to choose files.
        <input ref={input} type="file" multiple hidden data-testid="upload-input" accept=".zip,.npy,.jpg,.jpeg,.png" onChange={(e) => fromList(e.target.files)} />
      </div>
      {picked.length > 0 && (
        <>
          <ul className="small" data-testid="upload-files">
            {accepted.map((p) => (
              <li key={p.file.name}>
                {p.file.name} <span className="muted">({formatBytes(p.file.size)})</span>
              </li>
            ))}
            {ignored.length > 0 && <li className="muted">not sent: {ignored.map((p) => p.file.name).join(', ')}</li>}
          </ul>
          <label>
            name (a recording's session)
            <input name="name" value={name} placeholder={folder ?? 'the folder’s name'} onChange={(e) => setName(e.target.value)} />
          </label>
          <div>
            <button type="submit" disabled={busy || accepted.length === 0}>
              Upload {accepted.length} file{accepted.length === 1 ? '' : 's'} ({formatBytes(total)})
            </button>
          </div>
        </>
      )}
      {progress && (phase !== 'idle' || done) && (
        <div data-testid="upload-progress">
          <progress max={progress.total || 1} value={done ? progress.total || 1 : progress.sent} />
          <span className="muted small">
            {phase === 'checking' ? 'sent; the service decodes every image…' : done ? 'done' : `${formatBytes(progress.sent)} of ${formatBytes(progress.total)}`}
          </span>
        </div>
      )}
      {done && (
        <p data-testid="upload-done">
          {done.created ? 'Uploaded' : 'Already stored'}: <Link href={`/datasets/${done.id}`}>{done.name}</Link> ({done.kind.toLowerCase()}, {done.images} images{done.neurons != null ? `, ${done.neurons} neurons` : ''})
          {done.kind === 'RECORDING' && (
            <>
              {' · '}
              <Link href={`/trainings/new?dataset=${done.id}`}>train an encoder on it</Link>
            </>
          )}
        </p>
      )}
      {error !== undefined && <ErrorNotice error={error} title="The dataset was not uploaded" />}
    </form>
  );
}
