/**
 * Errors with stable codes (schema.graphql's ErrorCode): GraphQL errors carry the code in
 * extensions.code; the upload endpoint answers { error: { code, message } } with an HTTP status.
 */
import { GraphQLError } from 'graphql';
import type { ErrorCode } from './generated/resolvers.ts';

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
  INTERNAL_SERVER_ERROR: 500,
};

export class ServiceError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...details } });
    this.name = 'ServiceError';
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code] ?? 400;
  }
}

export const notFound = (what: string, id: string) => new ServiceError('NOT_FOUND', `no ${what} with id "${id}"`, { id });
