'use client';
/**
 * The transfer figure of MEI papers: for each evaluating model, the mean normalized activation
 * over neurons of every generator x method, as grouped bars (standard errors in the tooltip).
 * Normalized as the paper does, by the same generator's GA MEI (GA = 1), when the comparison has
 * GA; otherwise by each evaluator's best row.
 */
import { useMemo } from 'react';
import { formatNumber } from '@/lib/format.ts';
import { type GeneralizationMatrix, summarize } from '@/lib/generalization-matrix.ts';
import { EChart } from './echart.tsx';

export function NormalizedActivationChart({ matrix }: { matrix: GeneralizationMatrix }) {
  const byGa = matrix.rows.some((r) => r.method === 'GA');
  const option = useMemo(
    () => ({
      animation: false,
      legend: { top: 0, type: 'scroll' },
      tooltip: {
        trigger: 'item',
        formatter: (p: { seriesName: string; name: string; data: { value: number; sem: number; n: number } }) =>
          `${p.seriesName} on ${p.name}<br/>${formatNumber(p.data.value)} ± ${formatNumber(p.data.sem)} (SEM, ${p.data.n} neurons)`,
      },
      grid: { left: 56, right: 16, top: 40, bottom: 40 },
      xAxis: { type: 'category', data: matrix.columns.map((c) => c.name), name: 'evaluated by', nameLocation: 'middle', nameGap: 26 },
      yAxis: byGa ? { type: 'value', name: 'activation / GA MEI', min: 0 } : { type: 'value', name: 'normalized activation', min: 0, max: 1 },
      series: matrix.rows.map((r, i) => ({
        name: r.label,
        type: 'bar',
        data: matrix.cells[i].map((cell) => {
          const s = summarize(byGa ? cell.byGa : cell.normalized);
          return { value: s ? Number(s.mean.toFixed(4)) : 0, sem: s?.sem ?? 0, n: s?.n ?? 0 };
        }),
      })),
    }),
    [matrix, byGa],
  );
  return <EChart option={option} height={300} label="normalized activation by evaluator" testId="normalized-activation" />;
}
