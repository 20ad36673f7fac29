/**
 * Uploads as the service's multipart endpoints take them: one `file` part per file, named by its
 * path inside the folder (`member-0/weights.safetensors`), plus text fields. Works wherever
 * FormData and Blob do (Node, browsers); `@excite/sdk/node` reads a folder from disk.
 */
import type { DatasetKind, ModelKind } from './generated/graphql.ts';

export interface UploadFile {
  /** the path inside the folder, with `/` (a single top-level folder is entered: its name is a compact model's session) */
  path: string;
  data: Blob | Uint8Array;
}

/** POST /upload/model's answer (201 new, 200 the same files again: the same id). */
export interface UploadedModel {
  id: string;
  name: string;
  kind: ModelKind;
  /** neurons the model predicts (0 for a prior) */
  neurons: number;
  /** false: these files were registered before */
  created: boolean;
}

/** POST /upload/dataset's answer. */
export interface UploadedDataset {
  id: string;
  name: string;
  kind: DatasetKind;
  images: number;
  neurons: number | null;
  created: boolean;
}

export function uploadForm(files: readonly UploadFile[], fields: Record<string, string | undefined>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, value);
  for (const file of files) form.append('file', file.data instanceof Blob ? file.data : new Blob([file.data as Uint8Array<ArrayBuffer>]), file.path);
  return form;
}
