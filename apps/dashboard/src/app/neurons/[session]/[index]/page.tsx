/** One neuron's images and their scores, read on the server; the tables (zoom, export) are a client component. */
import type { Image } from '@excite/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { getSession } from '@/lib/server/session.ts';
import { NeuronImages } from './neuron-view.tsx';

/** Images read for one neuron: the newest this many. */
const MAX_IMAGES = 400;

export async function generateMetadata({ params }: { params: Promise<{ session: string; index: string }> }): Promise<Metadata> {
  const { session, index } = await params;
  return { title: `Neuron ${decodeURIComponent(session)}:${index}` };
}

export default async function NeuronPage({ params }: { params: Promise<{ session: string; index: string }> }) {
  const { session: rawSession, index: rawIndex } = await params;
  if (!/^\d+$/.test(rawIndex)) notFound();
  const session = decodeURIComponent(rawSession);
  const index = Number(rawIndex);
  const auth = await getSession();
  if (auth.status !== 'signed-in') return <SignInPrompt session={auth} next={`/neurons/${rawSession}/${rawIndex}`} />;
  const { client } = auth;
  const [neuron, images] = await Promise.all([client.neuron({ session, index }), client.images({ filter: { neuron: { session, index } }, first: MAX_IMAGES })]);
  return (
    <>
      <div className="title-row">
        <h1>
          Neuron {session}:{index}
        </h1>
        <Link href={`/runs/new?session=${encodeURIComponent(session)}&neurons=${index}&methods=GA,EGG,EGG_X0,MENI`}>Synthesize for this neuron</Link>
      </div>
      {neuron ? (
        <>
          <NeuronImages images={images.nodes as Image[]} predictedBy={neuron.encoders} session={session} index={index} />
          {images.totalCount > images.nodes.length && (
            <p className="muted">
              The newest {images.nodes.length} of {images.totalCount} images (excite images export has them all).
            </p>
          )}
        </>
      ) : (
        <p className="error-text">No model predicts neuron {session}:{index}.</p>
      )}
    </>
  );
}
