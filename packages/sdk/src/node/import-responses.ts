/**
 * Recorded responses from disk into the service (importResponses): a stimulus set's images.csv
 * (from exportImages / `excite images export`) and the rig's responses as a .npy file,
 * [neurons, stimuli] or [neurons, stimuli, repeats] with NaN for a missing repeat. The responses'
 * columns are the stimuli of images.csv in its order (stimulus 1, 2, ...), or the stimulus numbers
 * `shown` names, followed by `natural` dataset columns (natural references shown in the same
 * session). Nothing reaches the service before every column is matched.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { ExciteClient } from '../client.ts';
import { ExciteError } from '../errors.ts';
import type { ImportResponsesMutation, RecordedStimulusInput } from '../generated/graphql.ts';

export interface StimulusRow {
  stimulus: number;
  /** the PNG's path (resolved against the CSV's folder) */
  png: string;
  npy: string;
  image: string;
  method: string;
  kind: string;
  session: string;
  neuron: number | null;
  /** every column as written */
  cells: Record<string, string>;
}

/** Cells of one CSV text (RFC 4180 quoting, as exportImages writes it). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => r.length > 1 || r[0] !== '');
}

/** The stimuli of an exported images.csv, in its order. */
export async function readStimulusCsv(path: string): Promise<StimulusRow[]> {
  const [header, ...rows] = parseCsv(await readFile(path, 'utf8'));
  if (!header) throw new ExciteError('BAD_USER_INPUT', `${path} is empty: an images.csv of excite images export was expected`);
  for (const column of ['stimulus', 'png', 'image', 'session']) {
    if (!header.includes(column)) throw new ExciteError('BAD_USER_INPUT', `${path} has no "${column}" column: an images.csv of excite images export was expected`);
  }
  const dir = dirname(path);
  return rows.map((cells) => {
    const c = Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
    return {
      stimulus: Number(c.stimulus),
      png: join(dir, c.png),
      npy: join(dir, c.npy ?? ''),
      image: c.image,
      method: c.method,
      kind: c.kind,
      session: c.session,
      neuron: c.neuron === '' || c.neuron === undefined ? null : Number(c.neuron),
      cells: c,
    };
  });
}

/** A float32 or float64 little-endian .npy array (C order), as numpy.save writes it. */
export function parseNpy(bytes: Uint8Array, name = '<npy>'): { shape: number[]; data: Float64Array } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new ExciteError('BAD_USER_INPUT', `${name} is not a .npy file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new ExciteError('BAD_USER_INPUT', `${name}: unreadable .npy header`);
  if (fortran) throw new ExciteError('BAD_USER_INPUT', `${name}: Fortran-ordered arrays are not read (save with numpy.ascontiguousarray)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  const data = new Float64Array(count);
  if (descr === '<f4' || descr === '<f8') {
    const size = descr === '<f4' ? 4 : 8;
    if (bytes.length - offset < count * size) throw new ExciteError('BAD_USER_INPUT', `${name}: ${count} values declared, fewer stored`);
    for (let i = 0; i < count; i++) data[i] = size === 4 ? view.getFloat32(offset + 4 * i, true) : view.getFloat64(offset + 8 * i, true);
  } else throw new ExciteError('BAD_USER_INPUT', `${name}: dtype ${descr}; float32 or float64 (little-endian) expected`);
  return { shape, data };
}

export interface ImportResponsesFromFilesOptions {
  /** the exported images.csv */
  stimuli: string;
  /** the .npy of responses */
  responses: string;
  /** the recording's name; default the responses file's name without extension */
  name?: string;
  /** the session; default the one session of images.csv */
  session?: string;
  /** the session's neuron indices of the rows; default every neuron the service knows of the session */
  neurons?: number[];
  /** the stimulus numbers of the columns, in order; default every stimulus of images.csv in order */
  shown?: number[];
  /** natural references: columns of an uploaded image set shown in the same session, after the stimuli */
  natural?: { dataset: string; columns: number[] };
  /** require (true) a [neurons, stimuli, repeats] file */
  repeats?: boolean;
  /** replace a recording of the same session and name */
  replace?: boolean;
}

/** The mutation's input from the files (checked against images.csv): what importResponsesFromFiles sends. */
export async function responsesInput(o: ImportResponsesFromFilesOptions) {
  const rows = await readStimulusCsv(o.stimuli);
  const { shape, data } = parseNpy(await readFile(o.responses), o.responses);
  if (shape.length !== 2 && shape.length !== 3) throw new ExciteError('BAD_USER_INPUT', `${o.responses} has shape [${shape.join(', ')}]: [neurons, stimuli] or [neurons, stimuli, repeats] expected`);
  if (o.repeats && shape.length !== 3) throw new ExciteError('BAD_USER_INPUT', `${o.responses} has shape [${shape.join(', ')}]: --repeats expects [neurons, stimuli, repeats]`);
  const [neurons, columns, repeats = 1] = shape;
  const byNumber = new Map(rows.map((r) => [r.stimulus, r]));
  const shown = o.shown ?? rows.map((r) => r.stimulus);
  for (const n of shown) if (!byNumber.has(n)) throw new ExciteError('UNKNOWN_STIMULUS', `stimulus ${n} is not in ${o.stimuli} (it has ${rows.length} stimuli, numbered ${rows[0]?.stimulus ?? '-'}..${rows.at(-1)?.stimulus ?? '-'})`, { details: { stimulus: n } });
  const naturalColumns = o.natural?.columns ?? [];
  if (shown.length + naturalColumns.length !== columns) {
    // more columns than stimuli: some column is a stimulus the set does not have
    const code = columns > shown.length + naturalColumns.length ? 'UNKNOWN_STIMULUS' : 'BAD_USER_INPUT';
    throw new ExciteError(code, `${o.responses} has ${columns} stimuli (axis 1); ${o.stimuli} gives ${shown.length}${naturalColumns.length ? ` and the natural references ${naturalColumns.length}` : ''}`, { details: { columns, stimuli: shown.length + naturalColumns.length } });
  }
  const sessions = [...new Set(rows.filter((r) => shown.includes(r.stimulus) && r.session).map((r) => r.session))];
  const session = o.session ?? sessions[0];
  if (!session) throw new ExciteError('BAD_USER_INPUT', `${o.stimuli} names no session: give one (--session)`);
  if (!o.session && sessions.length > 1) throw new ExciteError('BAD_USER_INPUT', `${o.stimuli} has images of sessions ${sessions.join(', ')}: name the recorded one (--session)`);
  const cell = (n: number, k: number): (number | null)[] => {
    const out: (number | null)[] = [];
    for (let r = 0; r < repeats; r++) {
      const v = data[(n * columns + k) * repeats + r];
      out.push(Number.isNaN(v) ? null : v);
    }
    return out;
  };
  const responsesOf = (k: number) => Array.from({ length: neurons }, (_, n) => cell(n, k));
  const firstNatural = Math.max(0, ...rows.map((r) => r.stimulus)) + 1;
  const stimuli: RecordedStimulusInput[] = [
    ...shown.map((number, k) => ({ stimulus: number, image: byNumber.get(number)!.image, responses: responsesOf(k) })),
    ...naturalColumns.map((column, j) => ({ stimulus: firstNatural + j, dataset: o.natural!.dataset, datasetImage: column, responses: responsesOf(shown.length + j) })),
  ];
  return { name: o.name ?? basename(o.responses, extname(o.responses)), session, neurons: o.neurons ?? null, stimuli, replace: o.replace ?? false };
}

export async function importResponsesFromFiles(client: ExciteClient, o: ImportResponsesFromFilesOptions): Promise<ImportResponsesMutation['importResponses']> {
  return client.importResponses({ input: await responsesInput(o) });
}
