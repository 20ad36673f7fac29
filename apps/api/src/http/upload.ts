/**
 * Uploads of model folders and image sets: multipart/form-data whose file parts are named by
 * their path inside the folder (`-F "file=@w.safetensors;filename=member-0/weights.safetensors"`,
 * or what a browser's folder picker sends), plus text fields (name, session). The files land in a
 * temporary folder under size limits; the registry checks and stores them; the folder goes away.
 *
 *   POST /upload/model     -> 201 { model: { id, name, kind, neurons, created } } (200: already registered)
 *   POST /upload/dataset   -> 201 { dataset: { id, name, kind, images, neurons, created } }
 *   errors                 -> 4xx { error: { code, message } } with the schema's ErrorCode
 *
 * Each file path and each field comes once: a second part with a name already sent is refused
 * (DUPLICATE_PART) rather than written over or into the first. Refusals the engine gives a code
 * (a member path outside the folder, an archive or model.json over its limits, NaN weights) are
 * answered with that code.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request, Response } from 'express';
import { dataErrorCode } from '@excite/engine';
import { type Limits, archiveLimits } from '../config.ts';
import { ServiceError } from '../errors.ts';
import { DatasetFolderError, registerDatasetFolder } from '../registry/register-dataset.ts';
import { ModelFolderError } from '../registry/inspect-model.ts';
import { registerModelFolder } from '../registry/register-model.ts';
import type { Services } from '../services.ts';

interface Received {
  /** the folder the files describe (a single top-level folder of the upload is entered) */
  root: string;
  /** that top-level folder's name, if there was one */
  folderName?: string;
  fields: Record<string, string>;
  tmp: string;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0)} MiB`;

/** A path inside the upload: relative, no "..", no hidden parts (returns null to skip the file). */
function safePath(name: string): string | null {
  const path = posix.normalize(name.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
  const parts = path.split('/');
  if (path.startsWith('/') || /^[a-zA-Z]:/.test(path) || parts.some((p) => p === '..' || p === '')) throw new ServiceError('INVALID_UPLOAD', `file name "${name}" is not a relative path inside the folder`);
  if (parts.some((p) => p.startsWith('.'))) return null;
  if (parts.length > 4) throw new ServiceError('INVALID_UPLOAD', `file name "${name}" is nested deeper than 4 folders`);
  return path;
}

/**
 * Removes a temporary folder, retrying while something still closes in it; a folder that cannot
 * be removed is left to the next start (storage/leftovers.ts) rather than turning the answer into a 500.
 */
const removeFolder = (dir: string) => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }).catch(() => undefined);

/** Why `path` cannot be written beside the files received so far, if it cannot. */
function clashOf(path: string, parents: string[], paths: Set<string>, folders: Set<string>): string | undefined {
  if (paths.has(path)) return `the file "${path}" is sent twice: send each file once`;
  if (folders.has(path)) return `"${path}" is sent as a file and is a folder of other files`;
  const file = parents.find((p) => paths.has(p));
  if (file) return `"${path}" is inside "${file}", which is sent as a file`;
  return undefined;
}

export async function receiveUpload(req: Request, uploadsDir: string, limits: Limits): Promise<Received> {
  if (!req.is('multipart/form-data')) throw new ServiceError('INVALID_UPLOAD', 'send the files as multipart/form-data');
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limits.maxUploadBytes) throw new ServiceError('UPLOAD_TOO_LARGE', `the upload is ${mb(declared)}, more than the ${mb(limits.maxUploadBytes)} allowed`);
  const tmp = join(uploadsDir, randomUUID());
  await mkdir(tmp, { recursive: true });
  // no prototype: a field named __proto__ is a field like any other
  const fields: Record<string, string> = Object.create(null);
  /** the file paths received so far, and the folders they imply */
  const paths = new Set<string>();
  const folders = new Set<string>();
  try {
    await new Promise<void>((resolve, reject) => {
      let total = 0;
      let failed = false;
      const writes: Promise<void>[] = [];
      const streams = new Set<NodeJS.ReadableStream & { destroy: (e?: Error) => void }>();
      const fail = (e: unknown) => {
        if (failed) return;
        failed = true;
        req.unpipe(bb);
        req.resume(); // drain the rest, so the response can be read
        // stop the files being written and wait for them: the folder is removed only once nothing writes into it
        for (const s of streams) s.destroy();
        void Promise.allSettled(writes).then(() => reject(e));
      };
      let bb: busboy.Busboy;
      try {
        bb = busboy({ headers: req.headers, preservePath: true, limits: { fileSize: limits.maxUploadFileBytes, files: limits.maxUploadFiles, fields: 20, fieldSize: 64 * 1024 } });
      } catch (e) {
        throw new ServiceError('INVALID_UPLOAD', `not a readable multipart body: ${(e as Error).message}`);
      }
      bb.on('field', (name, value) => {
        if (name in fields) return fail(new ServiceError('DUPLICATE_PART', `the field "${name}" is sent twice: send each field once`));
        fields[name] = value;
      });
      bb.on('file', (field, stream, info) => {
        let path: string | null;
        try {
          path = safePath(info.filename || field);
        } catch (e) {
          stream.resume();
          return fail(e);
        }
        if (!path || failed) return void stream.resume();
        // two parts never share a file: the second would be written into the first at once
        const parents = path.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'));
        const clash = clashOf(path, parents, paths, folders);
        if (clash) {
          stream.resume();
          return fail(new ServiceError('DUPLICATE_PART', clash));
        }
        paths.add(path);
        for (const p of parents) folders.add(p);
        const file = join(tmp, path);
        streams.add(stream);
        stream.on('limit', () => fail(new ServiceError('UPLOAD_TOO_LARGE', `${path} is more than the ${mb(limits.maxUploadFileBytes)} a file may have`)));
        // the stream stays paused until the pipeline reads it: nothing is lost while the folder is made
        const counted = async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            total += chunk.length;
            if (total > limits.maxUploadBytes) throw new ServiceError('UPLOAD_TOO_LARGE', `the upload is more than the ${mb(limits.maxUploadBytes)} allowed`);
            yield chunk;
          }
        };
        writes.push(
          mkdir(dirname(file), { recursive: true })
            .then(() => {
              // settled only once the file is closed: a write stream destroyed while it opens creates its file later
              const out = createWriteStream(file);
              const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
              return pipeline(stream, counted, out).finally(() => closed);
            })
            .catch(fail)
            .finally(() => streams.delete(stream)),
        );
      });
      bb.on('filesLimit', () => fail(new ServiceError('UPLOAD_TOO_LARGE', `more than the ${limits.maxUploadFiles} files an upload may have`)));
      bb.on('error', (e) => fail(new ServiceError('INVALID_UPLOAD', `not a readable multipart body: ${(e as Error).message}`)));
      bb.on('close', () => {
        Promise.all(writes).then(() => (failed ? undefined : resolve()), fail);
      });
      req.on('aborted', () => fail(new ServiceError('INVALID_UPLOAD', 'the upload was interrupted')));
      req.pipe(bb);
    });
    const entries = await readdir(tmp);
    if (entries.length === 0) throw new ServiceError('INVALID_UPLOAD', 'the upload holds no files');
    // a folder sent whole (my-model/model.json, ...) is that folder
    if (entries.length === 1 && (await stat(join(tmp, entries[0]))).isDirectory()) return { root: join(tmp, entries[0]), folderName: entries[0], fields, tmp };
    return { root: tmp, fields, tmp };
  } catch (e) {
    await removeFolder(tmp);
    throw e;
  }
}

function sendError(res: Response, e: unknown, log: (line: string) => void): void {
  const error =
    e instanceof ServiceError
      ? e
      : e instanceof ModelFolderError || e instanceof DatasetFolderError
        ? new ServiceError(dataErrorCode(e) ?? 'INVALID_UPLOAD', e.message)
        : (log(`excite: upload failed: ${(e as Error).stack ?? e}`), new ServiceError('INTERNAL_SERVER_ERROR', 'the upload could not be stored (see the server log)'));
  if (error.code === 'UPLOAD_TOO_LARGE') res.setHeader('Connection', 'close');
  res.status(error.httpStatus).json({ error: { code: error.code, message: error.message } });
}

/** Receives an upload, registers it with `register`, removes its temporary folder, then answers. */
async function answer(req: Request, res: Response, services: Services, register: (upload: Received) => Promise<{ status: number; body: unknown }>): Promise<void> {
  let upload: Received | undefined;
  let result: { status: number; body: unknown } | undefined;
  let error: unknown;
  try {
    upload = await receiveUpload(req, join(services.config.dataDir, 'uploads'), services.config.limits);
    result = await register(upload);
  } catch (e) {
    error = e;
  } finally {
    // gone before the answer: a client that reads the answer finds nothing left behind
    if (upload) await removeFolder(upload.tmp);
  }
  if (result) res.status(result.status).json(result.body);
  else sendError(res, error, services.config.log);
}

export function modelUploadHandler(services: Services) {
  return async (req: Request, res: Response) => {
    await answer(req, res, services, async (upload) => {
      const { row, created, kind, neurons } = await registerModelFolder(services, upload.root, { name: upload.fields.name || undefined, session: upload.fields.session || upload.folderName || '', source: 'upload' });
      return { status: created ? 201 : 200, body: { model: { id: row.id, name: row.name, kind: kind.toUpperCase(), neurons, created } } };
    });
  };
}

export function datasetUploadHandler(services: Services) {
  return async (req: Request, res: Response) => {
    await answer(req, res, services, async (upload) => {
      const name = upload.fields.name || upload.folderName || `dataset ${new Date().toISOString()}`;
      const { row, created } = await registerDatasetFolder(services, upload.root, { name, maxImages: services.config.limits.maxDatasetImages, archive: archiveLimits(services.config.limits) });
      return { status: created ? 201 : 200, body: { dataset: { id: row.id, name: row.name, kind: row.kind.toUpperCase(), images: row.imageCount, neurons: row.neuronCount, created } } };
    });
  };
}
