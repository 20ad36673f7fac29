import type { Metadata } from 'next';
import { LaunchForm } from './launch-form.tsx';

export const metadata: Metadata = { title: 'Launch runs' };

/** ?generator=ID&session=S&neurons=0-9&methods=GA,EGG prefill the form (the neuron page links here). */
export default async function LaunchPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const one = (k: string) => (typeof params[k] === 'string' ? (params[k] as string) : undefined);
  return <LaunchForm prefill={{ generator: one('generator'), session: one('session'), neurons: one('neurons'), methods: one('methods') }} />;
}
