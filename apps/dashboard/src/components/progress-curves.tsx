'use client';
/** Energy and activation over the steps of a run, on two axes. */
import { useMemo } from 'react';
import { EChart } from './echart.tsx';

export function ProgressCurves({ stepAxis, energy, activation, height = 160 }: { stepAxis: readonly number[]; energy: readonly number[]; activation: readonly number[]; height?: number }) {
  const option = useMemo(
    () => ({
      animation: false,
      grid: { left: 48, right: 48, top: 28, bottom: 24 },
      legend: { top: 0, textStyle: { fontSize: 11 } },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'value', min: 1, name: 'step', nameGap: 4, axisLabel: { fontSize: 10 } },
      yAxis: [
        { type: 'value', name: 'energy', scale: true, axisLabel: { fontSize: 10 }, splitLine: { show: false } },
        { type: 'value', name: 'activation', scale: true, axisLabel: { fontSize: 10 } },
      ],
      series: [
        { name: 'energy', type: 'line', showSymbol: false, yAxisIndex: 0, data: stepAxis.map((s, i) => [s, energy[i]]) },
        { name: 'activation', type: 'line', showSymbol: false, yAxisIndex: 1, data: stepAxis.map((s, i) => [s, activation[i]]) },
      ],
    }),
    [stepAxis, energy, activation],
  );
  return <EChart option={option} height={height} label="energy and activation per step" />;
}
