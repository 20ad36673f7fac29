/** Numbers and times as the views show them. */
import type { Method } from '@excite/sdk';

export const METHOD_LABEL: Record<Method, string> = {
  GA: 'GA',
  EGG: 'EGG',
  EGG_X0: 'EGG-x0',
  MENI: 'MENI',
  RECONSTRUCTION: 'reconstruction',
  TOP_K: 'top natural',
  DIVERSE: 'diverse set',
};

export function formatNumber(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(2);
  return v.toPrecision(digits).replace(/\.?0+$/, (m) => (m.startsWith('.') ? '' : m));
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const seconds = (Date.now() - d.getTime()) / 1000;
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

export const neuronLabel = (n: { session: string; index: number } | null | undefined) => (n ? `${n.session}:${n.index}` : '—');
