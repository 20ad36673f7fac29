/**
 * sharp (libvips, a native library), loaded on first use: code that never decodes or encodes an
 * image (bench:gpu's bundle for a machine without it, a process that only samples) does not load it.
 */
import type Sharp from 'sharp';

let loaded: Promise<typeof Sharp> | undefined;

export function loadSharp(): Promise<typeof Sharp> {
  return (loaded ??= import('sharp').then((m) => m.default));
}
