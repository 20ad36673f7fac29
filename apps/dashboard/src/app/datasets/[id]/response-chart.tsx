'use client';
/** Each neuron's mean response with its standard deviation over the images, as bars. */
import { EChart } from '@/components/echart.tsx';

export function ResponseChart({ stats }: { stats: { neuron: number; mean: number; sd: number }[] }) {
  const clean = (v: number) => (Number.isFinite(v) ? v : null);
  const option = {
    animation: false,
    grid: { left: 48, right: 16, top: 28, bottom: 36 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', name: 'neuron', nameLocation: 'middle', nameGap: 24, data: stats.map((s) => String(s.neuron)) },
    yAxis: { type: 'value', name: 'response' },
    series: [
      { type: 'bar', name: 'mean', data: stats.map((s) => clean(s.mean)) },
      { type: 'bar', name: 'sd', data: stats.map((s) => clean(s.sd)) },
    ],
  };
  return <EChart option={option} height={220} label="mean and standard deviation of each neuron's responses" testId="response-chart" />;
}
