/**
 * Why a data file was refused, for the refusals a caller may want to tell apart from "malformed":
 * a path that leaves its folder, an archive or JSON document over its limits, values that are not
 * numbers, a dataset without neurons, an ONNX graph that cannot be imported (malformed, an operator
 * excite lacks, or metadata that contradicts the graph). The service answers these with the same code.
 */
export type DataErrorCode = 'PATH_OUTSIDE_FOLDER' | 'ARCHIVE_TOO_LARGE' | 'JSON_TOO_DEEP' | 'JSON_TOO_LARGE' | 'NON_FINITE_VALUES' | 'NO_NEURONS' | 'INVALID_ONNX' | 'UNSUPPORTED_OPERATOR' | 'META_CONTRADICTS_GRAPH';

/** Errors about a data file on disk: the message starts with the file, then says what is wrong. */
export class DataFileError extends Error {
  readonly code?: DataErrorCode;

  constructor(
    readonly file: string,
    readonly problem: string,
    options?: { cause?: unknown; code?: DataErrorCode },
  ) {
    super(`${file}: ${problem}`, options);
    this.name = 'DataFileError';
    this.code = options?.code;
  }
}

/** The DataErrorCode of an error or of one of its causes. */
export function dataErrorCode(e: unknown): DataErrorCode | undefined {
  for (let cause = e, n = 0; cause && n < 8; cause = (cause as Error).cause, n++) {
    if (cause instanceof DataFileError && cause.code) return cause.code;
  }
  return undefined;
}
