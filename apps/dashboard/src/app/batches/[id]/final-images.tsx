'use client';
/** A finished run's images (from the server), each zoomable. */
import type { Method } from '@excite/sdk';
import Link from 'next/link';
import { useState } from 'react';
import { FileImage } from '@/components/file-image.tsx';
import { ZoomDialog } from '@/components/zoom-dialog.tsx';
import { METHOD_LABEL, formatNumber } from '@/lib/format.ts';

const IMAGE_SIZE = 128;

export interface FinalImage {
  id: string;
  url: string;
  width: number;
  activation?: number | null;
  method: Method;
  /** the neuron's recorded response to the image, per recording that showed it */
  recorded?: { recording: { id: string; name: string }; mean: number; sem?: number | null }[];
}

export function FinalImages({ images, title, succeeded }: { images: FinalImage[]; title: string; succeeded: boolean }) {
  const [zoomed, setZoomed] = useState<number>();
  return (
    <>
      <div className="run-images">
        {images.map((image, i) => (
          <figure key={image.id}>
            <FileImage url={image.url} alt={`${METHOD_LABEL[image.method]} image ${i}`} size={images.length > 1 ? 64 : IMAGE_SIZE} testId="final-image" onClick={() => setZoomed(i)} />
            <figcaption className="small">
              activation {formatNumber(image.activation)}
              {image.recorded?.map((r) => (
                <div key={r.recording.id} data-testid="image-recorded">
                  recorded {formatNumber(r.mean)}
                  {r.sem !== null && r.sem !== undefined ? ` ± ${formatNumber(r.sem, 2)}` : ''} (<Link href={`/recordings/${r.recording.id}`}>{r.recording.name}</Link>)
                </div>
              ))}
            </figcaption>
          </figure>
        ))}
        {!images.length && succeeded && <span className="muted">no images</span>}
      </div>
      {zoomed !== undefined && images[zoomed] && <ZoomDialog url={images[zoomed].url} width={images[zoomed].width} title={title} onClose={() => setZoomed(undefined)} />}
    </>
  );
}
