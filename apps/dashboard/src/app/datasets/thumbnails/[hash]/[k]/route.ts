/**
 * GET /datasets/thumbnails/<sha256 of images.zip>/<k>: image column k of a dataset's archive, as
 * stored (JPEG or PNG), for the dataset page's thumbnails. The archive comes from the API with the
 * session cookie's token (so a token that cannot read the blob gets its refusal) and is kept for
 * the next columns; the answer is immutable (content-addressed).
 */
import { cookies } from 'next/headers';
import { UpstreamError, datasetArchive } from '@/lib/server/dataset-images.ts';
import { TOKEN_COOKIE } from '@/lib/server/session.ts';
import { entryBytes, imageMediaType } from '@/lib/server/zip.ts';

const refuse = (status: number, code: string, message: string) => Response.json({ error: { code, message } }, { status });

export async function GET(_request: Request, { params }: { params: Promise<{ hash: string; k: string }> }) {
  const { hash, k } = await params;
  if (!/^[0-9a-f]{64}$/.test(hash) || !/^\d+$/.test(k)) return refuse(404, 'NOT_FOUND', 'no such image');
  const token = (await cookies()).get(TOKEN_COOKIE)?.value;
  if (!token) return refuse(401, 'UNAUTHENTICATED', 'not signed in');
  try {
    const { zip, columns } = await datasetArchive(hash, token);
    const entry = columns[Number(k)];
    if (!entry) return refuse(404, 'NOT_FOUND', `the archive holds ${columns.length} images`);
    return new Response(entryBytes(zip, entry) as Uint8Array<ArrayBuffer>, { headers: { 'content-type': imageMediaType(entry.name), 'cache-control': 'private, max-age=31536000, immutable' } });
  } catch (e) {
    if (e instanceof UpstreamError) return refuse(e.status, e.status === 404 ? 'NOT_FOUND' : 'UPSTREAM', e.message);
    return refuse(422, 'UNREADABLE_ARCHIVE', (e as Error).message);
  }
}
