'use client';
/**
 * The trained model's held-out performance as its metrics state it: a histogram of the per-neuron
 * validation r where the metrics list it (`validation.<session>.r`), else the median and mean r of
 * each session as bars.
 */
import { EChart } from '@/components/echart.tsx';
import { histogram } from '@/lib/training-curves.ts';

export interface SessionMetrics {
  session: string;
  medianR: number | null;
  meanR: number | null;
  neurons: number | null;
  r: number[] | null;
}

export function ModelMetrics({ sessions }: { sessions: SessionMetrics[] }) {
  const perNeuron = sessions.flatMap((s) => s.r ?? []);
  if (perNeuron.length) {
    const bins = histogram(perNeuron, 20, -1, 1);
    const option = {
      animation: false,
      grid: { left: 48, right: 16, top: 16, bottom: 36 },
      tooltip: {},
      xAxis: { type: 'category', name: 'r', nameLocation: 'middle', nameGap: 24, data: bins.map((b) => b.centre.toFixed(2)) },
      yAxis: { type: 'value', name: 'neurons', minInterval: 1 },
      series: [{ type: 'bar', data: bins.map((b) => b.count), barCategoryGap: '5%' }],
    };
    return <EChart option={option} height={240} label="per-neuron validation r histogram" testId="r-histogram" />;
  }
  const option = {
    animation: false,
    grid: { left: 48, right: 16, top: 28, bottom: 36 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: sessions.map((s) => s.session) },
    yAxis: { type: 'value', name: 'validation r', max: 1 },
    series: [
      { type: 'bar', name: 'median r', data: sessions.map((s) => s.medianR) },
      { type: 'bar', name: 'mean r', data: sessions.map((s) => s.meanR) },
    ],
  };
  return <EChart option={option} height={220} label="validation r per session" testId="r-sessions" />;
}
