'use client';
/**
 * One neuron: the images every generator made for it with every method (GA, EGG, EGG-x0, MENI,
 * top natural images, diverse sets) side by side, each image's score by every evaluator that
 * predicts the neuron (ensembles trained on other data, other architectures, the ground-truth
 * compact model), a zoom, and the PNG and .npy files for export. The page reads the images on the
 * server; this client component arranges them and zooms.
 */
import type { Image, Method } from '@excite/sdk';
import Link from 'next/link';
import { useMemo, useState } from 'react';
import { FileDownload, FileImage } from '@/components/file-image.tsx';
import { ZoomDialog } from '@/components/zoom-dialog.tsx';
import { METHOD_LABEL, formatNumber } from '@/lib/format.ts';

const METHOD_ORDER: readonly Method[] = ['GA', 'EGG', 'EGG_X0', 'MENI', 'TOP_K', 'DIVERSE', 'RECONSTRUCTION'];
interface Evaluator {
  id: string;
  name: string;
  kind: string;
}

export function NeuronImages({ images, predictedBy, session, index }: { images: Image[]; predictedBy: readonly Evaluator[]; session: string; index: number }) {
  const [zoomed, setZoomed] = useState<Image>();
  const methods = METHOD_ORDER.filter((m) => images.some((i) => i.method === m));
  const generators = [...new Map(images.map((i) => [i.generator.id, i.generator])).values()];
  // every evaluator that scored an image, in the order the neuron lists its models, compact (ground truth) last
  const evaluators = useMemo(() => {
    const seen = new Map<string, Evaluator>(predictedBy.map((e) => [e.id, e]));
    for (const i of images) for (const s of i.scores) if (!seen.has(s.evaluator.id)) seen.set(s.evaluator.id, s.evaluator);
    return [...seen.values()].sort((a, b) => Number(a.kind === 'COMPACT') - Number(b.kind === 'COMPACT'));
  }, [images, predictedBy]);
  const best = (generator: string, method: Method) =>
    images.filter((i) => i.generator.id === generator && i.method === method).sort((a, b) => (b.activation ?? -Infinity) - (a.activation ?? -Infinity));

  if (!images.length)
    return (
      <p className="muted" data-testid="no-images">
        No images of this neuron yet. Predicted by {predictedBy.map((e) => e.name).join(', ')}.
      </p>
    );

  return (
    <>
      <section className="card">
        <h2>Images by method</h2>
        <p className="muted small">The image with the highest activation of each generator and method; click to zoom. Seeds and set members are in the table below.</p>
        <table className="image-table" data-testid="neuron-images">
          <thead>
            <tr>
              <th>generator</th>
              {methods.map((m) => (
                <th key={m}>{METHOD_LABEL[m]}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {generators.map((g) => (
              <tr key={g.id}>
                <th scope="row">{g.name}</th>
                {methods.map((m) => {
                  const [top, ...rest] = best(g.id, m);
                  return (
                    <td key={m}>
                      {top ? (
                        <figure>
                          <FileImage url={top.png.url} alt={`${METHOD_LABEL[m]} of ${g.name}`} size={112} onClick={() => setZoomed(top)} testId={`image-${m}`} />
                          <figcaption className="small">
                            {formatNumber(top.activation)}
                            {rest.length ? ` · ${rest.length} more` : ''}
                          </figcaption>
                        </figure>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card">
        <h2>Scores by every evaluator</h2>
        <p className="muted small">Predicted rates of neuron {session}:{index} (raw); the generator&apos;s own score is marked ●, the best image per evaluator is bold.</p>
        <ScoresTable images={images} evaluators={evaluators} onZoom={setZoomed} session={session} index={index} />
      </section>
      {zoomed && (
        <ZoomDialog url={zoomed.png.url} width={zoomed.width} title={`${METHOD_LABEL[zoomed.method]} · ${zoomed.generator.name} · seed ${zoomed.seed}`} onClose={() => setZoomed(undefined)} />
      )}
    </>
  );
}

function ScoresTable({ images, evaluators, onZoom, session, index }: { images: Image[]; evaluators: Evaluator[]; onZoom: (i: Image) => void; session: string; index: number }) {
  const sorted = [...images].sort((a, b) => METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method) || a.generator.name.localeCompare(b.generator.name) || a.seed - b.seed || a.index - b.index);
  const bestOf = new Map(evaluators.map((e) => [e.id, Math.max(...images.map((i) => i.scores.find((s) => s.evaluator.id === e.id)?.value ?? -Infinity))]));
  // each recording that showed one of the images: a column of recorded responses
  const recorded = images.some((i) => i.recorded.length > 0);
  const stem = (i: Image) => `${i.method.toLowerCase()}_${i.generator.name.replace(/[^\w.-]+/g, '-')}_${session}-${index}_s${i.seed}${i.index ? `_${i.index}` : ''}`;
  return (
    <div className="scroll-x">
      <table data-testid="neuron-scores">
        <thead>
          <tr>
            <th>image</th>
            <th>method</th>
            <th>generator</th>
            <th>seed</th>
            {evaluators.map((e) => (
              <th key={e.id} title={e.kind.toLowerCase()}>
                {e.name}
                {e.kind === 'COMPACT' && <div className="small muted">ground truth</div>}
              </th>
            ))}
            {recorded && <th title="the neuron's recorded response to the image: mean ± SEM over the repeats, per recording">recorded</th>}
            <th>export</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((i) => (
            <tr key={i.id}>
              <td>
                <FileImage url={i.png.url} alt="" size={40} onClick={() => onZoom(i)} />
              </td>
              <td>
                {METHOD_LABEL[i.method]}
                {i.sourceIndex !== null && i.sourceIndex !== undefined ? <div className="small muted">image {i.sourceIndex}</div> : null}
              </td>
              <td>{i.generator.name}</td>
              <td className="num">
                {i.seed}
                {i.index ? `.${i.index}` : ''}
              </td>
              {evaluators.map((e) => {
                const s = i.scores.find((x) => x.evaluator.id === e.id);
                return (
                  <td key={e.id} className="num" style={{ fontWeight: s && s.value === bestOf.get(e.id) ? 700 : undefined }}>
                    {s ? `${formatNumber(s.value)}${s.generator ? ' ●' : ''}` : '—'}
                  </td>
                );
              })}
              {recorded && (
                <td className="num nowrap" data-testid="neuron-recorded">
                  {i.recorded.length
                    ? i.recorded.map((r) => (
                        <div key={r.recording.id} title={`${r.repeats} repeats, stimulus ${r.stimulus}`}>
                          {formatNumber(r.mean)}
                          {r.sem !== null && r.sem !== undefined ? ` ± ${formatNumber(r.sem, 2)}` : ''} <Link href={`/recordings/${r.recording.id}`}>{r.recording.name}</Link>
                        </div>
                      ))
                    : '—'}
                </td>
              )}
              <td className="nowrap">
                <FileDownload url={i.png.url} fileName={`${stem(i)}.png`} label="PNG" /> · <FileDownload url={i.array.url} fileName={`${stem(i)}.npy`} label="npy" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
