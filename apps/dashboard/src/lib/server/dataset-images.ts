/**
 * A dataset's images for thumbnails: its images.zip fetched from the API with the session's token
 * (a stored blob, content-addressed), kept in memory for the next thumbnails (the last few
 * archives, up to MAX_ZIP_BYTES each), and read entry by entry.
 */
import { serverApiUrl } from './session.ts';
import { type ZipEntry, imageColumns, zipEntries } from './zip.ts';

/** Archives larger than this get no thumbnails (the dashboard would hold them in memory). */
export const MAX_ZIP_BYTES = 256 * 2 ** 20;
const KEPT = 3;

interface Archive {
  zip: Uint8Array;
  columns: ZipEntry[];
}

const archives = new Map<string, Promise<Archive>>();

export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function datasetArchive(hash: string, token: string): Promise<Archive> {
  let archive = archives.get(hash);
  if (!archive) {
    archive = (async () => {
      const res = await fetch(new URL(`/blobs/${hash}`, serverApiUrl()), { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new UpstreamError(res.status, `the API answered ${res.status} for the archive`);
      if (Number(res.headers.get('content-length') ?? 0) > MAX_ZIP_BYTES) throw new UpstreamError(413, 'the archive is too large for thumbnails');
      const zip = new Uint8Array(await res.arrayBuffer());
      return { zip, columns: imageColumns(zipEntries(zip)) };
    })();
    archives.set(hash, archive);
    archive.catch(() => archives.delete(hash));
    while (archives.size > KEPT) archives.delete(archives.keys().next().value!);
  }
  return archive;
}
