/**
 * Stored files (a Blob's url, /blobs/<sha256>) as the browser loads them: through the dashboard's
 * /files/<sha256> route, which fetches them from the API with the session's token, so that a
 * plain <img src> or download link works without the token in the page.
 */
export function fileHref(blobUrl: string, downloadAs?: string): string {
  const hash = blobUrl.split('/').pop() ?? '';
  return `/files/${hash}${downloadAs ? `?name=${encodeURIComponent(downloadAs)}` : ''}`;
}
