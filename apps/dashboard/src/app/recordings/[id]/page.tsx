/**
 * One recording's closed-loop analysis, read on the server (Recording.analysis): the methods'
 * recorded responses relative to the best natural image shown in the same session, the paired
 * tests of every method pair across neurons, how well each evaluator (twin) predicted the
 * recording, and the noise ceilings from the repeats. The plots are client components; the numbers
 * are in the HTML.
 */
import type { Method } from '@excite/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { METHOD_LABEL, formatNumber, formatTime, neuronLabel } from '@/lib/format.ts';
import { correlationCeiling, featuredPair, neuronRows, pairWinner, pairedPoints, recordedMethods, relativeSpread } from '@/lib/recording-analysis.ts';
import { getSession } from '@/lib/server/session.ts';
import { EvaluatorChart, NoiseCeilingChart, PairedChart, RelativeResponseChart } from './recording-charts.tsx';

export const metadata: Metadata = { title: 'Recording' };

const label = (m: Method | null) => (m ? METHOD_LABEL[m] : 'best natural');
/** a number for the page and its exact value for whoever reads the page's data (the browser test) */
const Num = ({ v, digits = 3 }: { v: number | null | undefined; digits?: number }) => <span data-value={v ?? ''}>{formatNumber(v, digits)}</span>;

export default async function RecordingPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next={`/recordings/${id}`} />;
  const recording = await session.client.recording({ id });
  if (!recording) notFound();
  const { analysis } = recording;
  const methods = recordedMethods(analysis);
  const rows = neuronRows(analysis);
  const spread = relativeSpread(analysis);
  const featured = featuredPair(analysis);
  const paired = featured && pairedPoints(analysis, featured.a, featured.b);
  const ceiling = correlationCeiling(analysis.noiseCeiling);
  const naturals = recording.stimuli.filter((s) => s.natural).length;

  return (
    <>
      <div className="title-row">
        <h1 data-testid="recording-name">{recording.name}</h1>
        <span className="muted">
          session {recording.session} · {recording.neurons.length} neurons · {recording.stimulusCount} stimuli ({naturals} natural) · up to {recording.maxRepeats} repeats · imported {formatTime(recording.createdAt)}
        </span>
        <Link href="/recordings">all recordings</Link>
      </div>

      <section className="card" data-testid="per-neuron">
        <h2>Recorded response to the MEIs, relative to the best natural image</h2>
        <p className="muted small">
          Per neuron and method, the mean recorded response to the method's images made for the neuron, over the largest recorded response of the neuron to a natural image shown in the same
          recording. Above the dashed line the synthesized images drove the neuron harder than any natural image.
        </p>
        {naturals === 0 && <p className="role-notice">The recording showed no natural image: there is no baseline (export TOP_K images or import dataset columns with --natural).</p>}
        {spread.some((s) => s.points.length) && <RelativeResponseChart spread={spread} />}
        <p className="small">
          {spread.map((s) => (
            <span key={s.method} className="chip" data-testid={`method-summary-${s.method}`}>
              {METHOD_LABEL[s.method]}: median <Num v={s.median} />, above the best natural image for {s.above} of {s.points.length} neurons
            </span>
          ))}
        </p>
        <div className="scroll-x">
          <table data-testid="per-neuron-table">
            <thead>
              <tr>
                <th>neuron</th>
                <th>best natural (stimulus)</th>
                {methods.map((m) => (
                  <th key={m} data-method={m}>
                    {METHOD_LABEL[m]}: recorded (relative)
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={neuronLabel(r.neuron)} data-neuron={r.neuron.index}>
                  <th>
                    <Link href={`/neurons/${r.neuron.session}/${r.neuron.index}`}>{neuronLabel(r.neuron)}</Link>
                  </th>
                  <td className="num" data-cell="best-natural">
                    <Num v={r.bestNatural} /> {r.bestNaturalStimulus !== null && <span className="muted">(#{r.bestNaturalStimulus})</span>}
                  </td>
                  {methods.map((m) => {
                    const c = r.cells[m];
                    return (
                      <td key={m} className="num" data-method={m}>
                        {c ? (
                          <>
                            <span data-cell="response">
                              <Num v={c.response} />
                            </span>{' '}
                            (<span data-cell="relative">
                              <Num v={c.relativeToNatural} />
                            </span>)
                            {c.images > 1 && <span className="muted small"> {c.images} images</span>}
                          </>
                        ) : (
                          '—'
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section className="card" data-testid="method-pairs">
        <h2>Methods against each other, paired over neurons</h2>
        <p className="muted small">
          Every pair of methods, and each method against the best natural image: the neurons with a response to both, the differences a - b, the Wilcoxon signed-rank test (two-sided; exact up to 50
          non-zero differences) and its effect size, the matched-pairs rank-biserial correlation (1: a drove every neuron harder).
        </p>
        <div className="scroll-x">
          <table data-testid="method-pairs-table">
            <thead>
              <tr>
                <th>a vs b</th>
                <th>neurons</th>
                <th>median a - b</th>
                <th>mean a - b</th>
                <th>a wins : b wins</th>
                <th>W+</th>
                <th>p</th>
                <th>effect size</th>
                <th>favours</th>
              </tr>
            </thead>
            <tbody>
              {analysis.methodPairs.map((p) => (
                <tr key={`${p.a}-${p.b}`} data-pair={`${p.a}-${p.b ?? 'natural'}`}>
                  <th>
                    {label(p.a)} vs {label(p.b)}
                  </th>
                  <td className="num" data-cell="neurons">
                    {p.neurons}
                  </td>
                  <td className="num" data-cell="median-difference">
                    <Num v={p.medianDifference} />
                  </td>
                  <td className="num" data-cell="mean-difference">
                    <Num v={p.meanDifference} />
                  </td>
                  <td className="num" data-cell="wins">
                    {p.aWins} : {p.bWins}
                  </td>
                  <td className="num" data-cell="w-plus">
                    <Num v={p.wPlus} digits={4} />
                  </td>
                  <td className="num" data-cell="p">
                    <Num v={p.pValue} /> <span className="muted small">{p.exact ? 'exact' : 'normal approx.'}</span>
                  </td>
                  <td className="num" data-cell="effect-size">
                    <Num v={p.effectSize} digits={2} />
                  </td>
                  <td data-cell="favours">{pairWinner(p) === null ? 'neither' : pairWinner(p) === p.a ? label(p.a) : label(p.b)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {featured && paired && paired.points.length > 0 && (
          <>
            <h2 style={{ marginTop: 16 }}>
              {METHOD_LABEL[featured.a]} against {METHOD_LABEL[featured.b]}, neuron by neuron
            </h2>
            <p className="muted small">Each point is a neuron{paired.relative ? ', its responses relative to its best natural image' : ''}; above the diagonal {METHOD_LABEL[featured.a]} drove it harder.</p>
            <PairedChart a={featured.a} b={featured.b} points={paired.points} relative={paired.relative} />
          </>
        )}
      </section>

      <section className="card" data-testid="evaluators">
        <h2>Which twin predicted the experiment best</h2>
        <p className="muted small">
          Pearson r between each evaluator's predicted rate and the recorded mean over every recorded image scored for the neuron it was made for (best first), and the median over neurons of the same r
          within a neuron (free of differences in scale between neurons). The dashed line is the noise ceiling: the median over neurons of the square root of the split-half reliability, the r a
          perfect model could reach against the recorded means of a neuron.
        </p>
        {analysis.evaluators.length > 0 ? (
          <>
            <EvaluatorChart evaluators={analysis.evaluators.map((e) => ({ name: e.evaluator.name, r: e.r, medianNeuronR: e.medianNeuronR }))} ceiling={ceiling} />
            <table data-testid="evaluators-table">
              <thead>
                <tr>
                  <th>evaluator</th>
                  <th>kind</th>
                  <th>r</th>
                  <th>stimuli</th>
                  <th>median r per neuron</th>
                  <th>neurons</th>
                </tr>
              </thead>
              <tbody>
                {analysis.evaluators.map((e) => (
                  <tr key={e.evaluator.id} data-evaluator={e.evaluator.name}>
                    <th>{e.evaluator.name}</th>
                    <td className="muted">{e.evaluator.kind.toLowerCase()}</td>
                    <td className="num" data-cell="r">
                      <Num v={e.r} />
                    </td>
                    <td className="num" data-cell="pairs">
                      {e.pairs}
                    </td>
                    <td className="num" data-cell="median-neuron-r">
                      <Num v={e.medianNeuronR} />
                    </td>
                    <td className="num" data-cell="neurons">
                      {e.neurons}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : (
          <p className="muted">No evaluator scored a recorded image.</p>
        )}
      </section>

      <section className="card" data-testid="noise-ceiling">
        <h2>Noise ceiling from the repeats</h2>
        <p className="small" data-testid="noise-summary">
          FEV mean <Num v={analysis.noiseCeiling.meanFev} />, median <Num v={analysis.noiseCeiling.medianFev} />; correlation ceiling (median √ split-half reliability) <Num v={ceiling} />
        </p>
        <p className="muted small">
          Per neuron over every stimulus of the recording: the fraction of explainable variance (1 - mean noise variance / total variance; stimuli with two or more repeats) and the split-half
          reliability (odd against even repeats, Spearman-Brown corrected).
        </p>
        {analysis.noiseCeiling.neurons.length > 0 && (
          <NoiseCeilingChart neurons={analysis.noiseCeiling.neurons.map((n) => ({ neuron: neuronLabel(n.neuron), fev: n.fev, splitHalfR: n.splitHalfR }))} />
        )}
        <table data-testid="noise-table">
          <thead>
            <tr>
              <th>neuron</th>
              <th>FEV</th>
              <th>split-half reliability</th>
            </tr>
          </thead>
          <tbody>
            {analysis.noiseCeiling.neurons.map((n) => (
              <tr key={neuronLabel(n.neuron)} data-neuron={n.neuron.index}>
                <th>{neuronLabel(n.neuron)}</th>
                <td className="num" data-cell="fev">
                  <Num v={n.fev} />
                </td>
                <td className="num" data-cell="split-half">
                  <Num v={n.splitHalfR} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
