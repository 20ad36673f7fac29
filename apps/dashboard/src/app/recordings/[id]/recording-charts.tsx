'use client';
/**
 * The recording's plots, drawn in the browser from what the server read: the methods' responses
 * relative to the best natural image (a box and the neurons per method, the 1.0 line), one pair of
 * methods neuron by neuron (EGG against GA), the evaluators' correlation with the recording against
 * the noise ceiling, and each neuron's noise ceiling.
 */
import type { Method } from '@excite/sdk';
import { useMemo } from 'react';
import { EChart } from '@/components/echart.tsx';
import { METHOD_LABEL } from '@/lib/format.ts';
import { summarize } from '@/lib/generalization-matrix.ts';
import type { MethodSpread, PairedPoint } from '@/lib/recording-analysis.ts';

/** an axis end on a half (ECharts prints the end it is given as a tick) */
const upToHalf = (v: number) => Math.ceil(v * 2) / 2;
const downToTenth = (v: number) => Math.floor(v * 10) / 10;

export function RelativeResponseChart({ spread }: { spread: MethodSpread[] }) {
  const option = useMemo(() => {
    const values = spread.flatMap((s) => s.points.map((p) => p.relative));
    const top = upToHalf(Math.max(1.2, ...values) * 1.05);
    return {
      animation: false,
      tooltip: { trigger: 'item' },
      grid: { left: 64, right: 24, top: 16, bottom: 40 },
      xAxis: { type: 'category', data: spread.map((s) => METHOD_LABEL[s.method]) },
      yAxis: { type: 'value', name: 'recorded / best natural', nameLocation: 'middle', nameGap: 44, min: 0, max: top },
      series: [
        {
          name: 'spread over neurons',
          type: 'boxplot',
          itemStyle: { color: '#e7eef9', borderColor: '#4a6fa5' },
          data: spread.map((s) => {
            const q = summarize(s.points.map((p) => p.relative));
            return q ? [q.min, q.q1, q.median, q.q3, q.max] : [];
          }),
          markLine: {
            silent: true,
            symbol: 'none',
            lineStyle: { color: '#b3261e', type: 'dashed' },
            label: { formatter: 'best natural image (1.0)', position: 'insideEndTop' },
            data: [{ yAxis: 1 }],
          },
        },
        {
          name: 'neurons',
          type: 'scatter',
          symbolSize: 7,
          itemStyle: { color: '#1f4e8c', opacity: 0.6 },
          tooltip: { formatter: (p: { data: [number, number, string] }) => `${p.data[2]}: ${p.data[1].toFixed(3)}` },
          data: spread.flatMap((s, i) => s.points.map((p) => [i, p.relative, p.neuron])),
        },
      ],
    };
  }, [spread]);
  return <EChart option={option} height={320} label="each neuron's recorded response to each method's images relative to its best natural image" testId="relative-response-chart" />;
}

export function PairedChart({ a, b, points, relative }: { a: Method; b: Method; points: PairedPoint[]; relative: boolean }) {
  const option = useMemo(() => {
    const values = points.flatMap((p) => [p.a, p.b]);
    const lo = Math.min(0, downToTenth(Math.min(...values)));
    const hi = upToHalf(Math.max(...values, relative ? 1 : 0) * 1.05) || 1;
    const unit = relative ? ' (/ best natural)' : ' (recorded)';
    return {
      animation: false,
      tooltip: { trigger: 'item' },
      grid: { left: 64, right: 24, top: 16, bottom: 48 },
      xAxis: { type: 'value', name: `${METHOD_LABEL[b]}${unit}`, nameLocation: 'middle', nameGap: 28, min: lo, max: hi },
      yAxis: { type: 'value', name: `${METHOD_LABEL[a]}${unit}`, nameLocation: 'middle', nameGap: 44, min: lo, max: hi },
      series: [
        {
          name: 'neurons',
          type: 'scatter',
          symbolSize: 8,
          itemStyle: { color: '#1f4e8c', opacity: 0.7 },
          tooltip: { formatter: (p: { data: [number, number, string] }) => `${p.data[2]}: ${METHOD_LABEL[a]} ${p.data[1].toFixed(3)}, ${METHOD_LABEL[b]} ${p.data[0].toFixed(3)}` },
          data: points.map((p) => [p.b, p.a, p.neuron]),
          markLine: {
            silent: true,
            symbol: 'none',
            lineStyle: { color: '#888', type: 'dashed' },
            label: { formatter: `above: ${METHOD_LABEL[a]} drove the neuron harder`, position: 'insideEndTop' },
            data: [[{ coord: [lo, lo] }, { coord: [hi, hi] }]],
          },
        },
      ],
    };
  }, [a, b, points, relative]);
  return <EChart option={option} height={320} label={`each neuron's response to ${METHOD_LABEL[a]} against ${METHOD_LABEL[b]}`} testId="paired-chart" />;
}

export interface EvaluatorBar {
  name: string;
  r: number | null;
  medianNeuronR: number | null;
}

export function EvaluatorChart({ evaluators, ceiling }: { evaluators: EvaluatorBar[]; ceiling: number | null }) {
  const option = useMemo(
    () => ({
      animation: false,
      legend: { top: 0 },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 160, right: 40, top: 48, bottom: 40 },
      // best first, at the top
      yAxis: { type: 'category', inverse: true, data: evaluators.map((e) => e.name) },
      xAxis: { type: 'value', name: 'Pearson r with the recording', nameLocation: 'middle', nameGap: 26, min: (v: { min: number }) => Math.min(0, downToTenth(v.min)), max: 1 },
      series: [
        {
          name: 'r over all stimuli',
          type: 'bar',
          itemStyle: { color: '#1f4e8c' },
          data: evaluators.map((e) => e.r),
          markLine:
            ceiling === null
              ? undefined
              : {
                  silent: true,
                  symbol: 'none',
                  lineStyle: { color: '#b3261e', type: 'dashed' },
                  // the category axis runs downwards: its start is the top
                  label: { formatter: `noise ceiling ${ceiling.toFixed(2)}`, position: 'start' },
                  data: [{ xAxis: ceiling }],
                },
        },
        { name: 'median r per neuron', type: 'bar', itemStyle: { color: '#8fb0dc' }, data: evaluators.map((e) => e.medianNeuronR) },
      ],
    }),
    [evaluators, ceiling],
  );
  return <EChart option={option} height={Math.max(160, 60 + 48 * evaluators.length)} label="each evaluator's correlation with the recording, best first, against the noise ceiling" testId="evaluator-chart" />;
}

export function NoiseCeilingChart({ neurons }: { neurons: { neuron: string; fev: number | null; splitHalfR: number | null }[] }) {
  const option = useMemo(
    () => ({
      animation: false,
      legend: { top: 0 },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 56, right: 16, top: 32, bottom: 48 },
      xAxis: { type: 'category', data: neurons.map((n) => n.neuron), name: 'neuron', nameLocation: 'middle', nameGap: 30 },
      yAxis: { type: 'value', min: (v: { min: number }) => Math.min(0, downToTenth(v.min)), max: 1 },
      series: [
        { name: 'FEV', type: 'bar', itemStyle: { color: '#1f4e8c' }, data: neurons.map((n) => n.fev) },
        { name: 'split-half reliability', type: 'bar', itemStyle: { color: '#8fb0dc' }, data: neurons.map((n) => n.splitHalfR) },
      ],
    }),
    [neurons],
  );
  return <EChart option={option} height={260} label="each neuron's noise ceiling from the repeats" testId="noise-ceiling-chart" />;
}
