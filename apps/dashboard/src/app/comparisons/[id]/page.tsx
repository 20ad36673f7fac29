/**
 * One comparison, read on the server: the comparison and every image of its batch with their
 * scores; the matrix and charts are drawn by client components. While its runs compute, a status
 * subscription re-renders the page as they finish.
 */
import type { Image } from '@excite/sdk';
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { LiveProvider, LiveRefresh } from '@/lib/live.tsx';
import { browserApiLocation, getSession } from '@/lib/server/session.ts';
import { ComparisonDetails } from './comparison-view.tsx';

export const metadata: Metadata = { title: 'Comparison' };

export default async function ComparisonPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next={`/comparisons/${id}`} />;
  const { client, token } = session;
  const comparison = await client.comparison({ id });
  if (!comparison) notFound();
  const images: Image[] = [];
  for await (const image of client.paginate('images', { filter: { batch: comparison.batch.id }, order: 'OLDEST_FIRST' }, { pageSize: 200 })) images.push(image);
  return (
    <LiveProvider api={browserApiLocation()} token={token}>
      {!comparison.batch.done && <LiveRefresh batch={comparison.batch.id} delayMs={1000} />}
      <ComparisonDetails comparison={comparison} images={images} />
    </LiveProvider>
  );
}
