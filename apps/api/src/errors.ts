/**
 * The service's errors: a stable code (schema.graphql's ErrorCode, listed in docs/service.md) and
 * details. Domain code (runs, registry, uploads) throws them and knows nothing of GraphQL; the
 * GraphQL layer answers `extensions` ({ code, ...details }: graphql-js carries an error's own
 * extensions into the error it reports) and the HTTP routes answer { error: { code, message } }
 * with `httpStatus`.
 */
import type { ErrorCode } from './graphql/generated/resolvers.ts';

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  INVALID_UPLOAD: 400,
  UPLOAD_TOO_LARGE: 413,
  DUPLICATE_PART: 400,
  PATH_OUTSIDE_FOLDER: 400,
  ARCHIVE_TOO_LARGE: 400,
  JSON_TOO_DEEP: 400,
  JSON_TOO_LARGE: 400,
  NON_FINITE_VALUES: 400,
  NO_NEURONS: 400,
  INVALID_ONNX: 400,
  UNSUPPORTED_OPERATOR: 400,
  META_CONTRADICTS_GRAPH: 400,
  UNKNOWN_STIMULUS: 400,
  NEURON_COUNT_MISMATCH: 400,
  RECORDING_EXISTS: 400,
  EMPTY_RESPONSES: 400,
  INTERNAL_SERVER_ERROR: 500,
};

export class ServiceError extends Error {
  readonly extensions: { code: ErrorCode } & Record<string, unknown>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ServiceError';
    this.extensions = { code, ...details };
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code] ?? 400;
  }
}

export const notFound = (what: string, id: string) => new ServiceError('NOT_FOUND', `no ${what} with id "${id}"`, { id });
