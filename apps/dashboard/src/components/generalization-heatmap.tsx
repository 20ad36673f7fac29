'use client';
/**
 * The generalization matrix as a heatmap: rows generator x method, columns evaluating models. The
 * colour is the cell's mean normalized activation (comparable across evaluators), the label its
 * raw mean rate; the tooltip adds median, image count and the spread over neurons.
 */
import { useMemo } from 'react';
import { formatNumber } from '@/lib/format.ts';
import { type GeneralizationMatrix, summarize } from '@/lib/generalization-matrix.ts';
import { EChart } from './echart.tsx';

export function GeneralizationHeatmap({ matrix }: { matrix: GeneralizationMatrix }) {
  const option = useMemo(() => {
    const data = matrix.cells.flatMap((row, i) =>
      row.map((cell, j) => {
        const s = summarize(cell.normalized);
        return { value: [j, i, s ? Number(s.mean.toFixed(4)) : '-'], raw: cell.mean, median: cell.median, count: cell.count, spread: s };
      }),
    );
    return {
      animation: false,
      tooltip: {
        formatter: (p: { data: (typeof data)[number] }) => {
          const [j, i] = p.data.value as number[];
          const s = p.data.spread;
          return [
            `<b>${matrix.rows[i].label}</b> scored by <b>${matrix.columns[j].name}</b>`,
            `mean rate ${formatNumber(p.data.raw)} · median ${formatNumber(p.data.median)} · ${p.data.count} images`,
            s ? `normalized ${formatNumber(s.mean)} ± ${formatNumber(s.sem)} (SEM) over ${s.n} neurons, range ${formatNumber(s.min)}–${formatNumber(s.max)}` : 'not scored yet',
          ].join('<br/>');
        },
      },
      grid: { left: 8, right: 16, top: 8, bottom: 76, containLabel: true },
      xAxis: { type: 'category', data: matrix.columns.map((c) => (c.kind === 'COMPACT' ? `${c.name} (ground truth)` : c.name)), name: 'evaluated by', nameLocation: 'middle', nameGap: 28, splitArea: { show: true } },
      yAxis: { type: 'category', data: matrix.rows.map((r) => r.label), inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: 1, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 160, text: ['1: the best row', 'normalized activation 0'], inRange: { color: ['#f7fbff', '#6baed6', '#08306b'] } },
      series: [
        {
          name: 'normalized activation',
          type: 'heatmap',
          data,
          label: { show: true, formatter: (p: { data: (typeof data)[number] }) => formatNumber(p.data.raw), fontSize: 11 },
          emphasis: { itemStyle: { borderColor: '#222', borderWidth: 1 } },
        },
      ],
    };
  }, [matrix]);
  return <EChart option={option} height={Math.max(240, 48 * matrix.rows.length + 130)} label="generalization matrix heatmap" testId="generalization-heatmap" />;
}
