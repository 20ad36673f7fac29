/** Errors about a data file on disk: the message starts with the file, then says what is wrong. */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
    this.name = 'DataFileError';
  }
}
