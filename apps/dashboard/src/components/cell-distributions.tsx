'use client';
/** The spread over neurons behind each cell of the matrix: a box per row (generator x method) and evaluator. */
import { useMemo } from 'react';
import { type GeneralizationMatrix, summarize } from '@/lib/generalization-matrix.ts';
import { EChart } from './echart.tsx';

export function CellDistributions({ matrix }: { matrix: GeneralizationMatrix }) {
  const option = useMemo(
    () => ({
      animation: false,
      legend: { top: 0, type: 'scroll' },
      tooltip: { trigger: 'item' },
      grid: { left: 56, right: 16, top: 40, bottom: 40 },
      xAxis: { type: 'category', data: matrix.columns.map((c) => c.name), name: 'evaluated by', nameLocation: 'middle', nameGap: 26 },
      yAxis: { type: 'value', name: 'normalized activation', min: 0, max: 1.05 },
      series: matrix.rows.map((r, i) => ({
        name: r.label,
        type: 'boxplot',
        data: matrix.cells[i].map((cell) => {
          const s = summarize(cell.normalized);
          return s ? [s.min, s.q1, s.median, s.q3, s.max] : [];
        }),
      })),
    }),
    [matrix],
  );
  return <EChart option={option} height={300} label="distributions over neurons per cell" testId="cell-distributions" />;
}
