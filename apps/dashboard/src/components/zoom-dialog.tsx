'use client';
/**
 * An image enlarged without smoothing, so that single pixels stay visible: the MEIs are small
 * (40x40 for the demo models), about a receptive field. The zoom is a whole multiple of the
 * image's own size.
 */
import { useEffect, useRef, useState } from 'react';
import { fileHref } from '@/lib/files.ts';

export function ZoomDialog({ url, title, width, onClose }: { url: string; title: string; width: number; onClose: () => void }) {
  const [zoom, setZoom] = useState(() => Math.max(2, Math.floor(480 / Math.max(1, width))));
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    <dialog ref={dialog} className="zoom-dialog" onClose={onClose} onClick={(e) => e.target === dialog.current && dialog.current?.close()}>
      <header>
        <strong>{title}</strong>
        <label>
          zoom {zoom}x
          <input type="range" min={1} max={24} value={zoom} onChange={(e) => setZoom(Number(e.target.value))} />
        </label>
        <button type="button" onClick={() => dialog.current?.close()} aria-label="close">
          ×
        </button>
      </header>
      <img className="pixelated" src={fileHref(url)} alt={title} width={width * zoom} height={width * zoom} data-testid="zoomed-image" />
    </dialog>
  );
}
