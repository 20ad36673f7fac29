/**
 * Errors as typed exceptions: every failure of a call is an ExciteError whose `code` is the
 * service's (schema.graphql's ErrorCode, from a GraphQL error's `extensions.code` or an upload's
 * `{"error": {"code"}}`), or one of the few codes for what fails before the service can answer.
 */
import { ErrorCode } from './generated/enums.ts';

/** Failures without an answer from the service's code: the network, a non-GraphQL reply, Apollo's own checks. */
export const TRANSPORT_ERROR_CODES = ['NETWORK_ERROR', 'HTTP_ERROR', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED'] as const;
export type TransportErrorCode = (typeof TRANSPORT_ERROR_CODES)[number];

/**
 * What `ExciteError.code` holds. A code this SDK's schema does not know yet (a newer service) is
 * passed through unchanged.
 */
export type ExciteErrorCode = ErrorCode | TransportErrorCode;

/** A GraphQL error as the service sends it. */
export interface ServiceErrorPayload {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string } & Record<string, unknown>;
}

export class ExciteError extends Error {
  override readonly name = 'ExciteError';
  /** the extensions besides `code` (e.g. BATCH_TOO_LARGE: `runs`, `limit`; UNKNOWN_NEURON: `neurons`) */
  readonly details: Record<string, unknown>;
  /** every error of the response (the first one gives `code` and `message`) */
  readonly errors: readonly ServiceErrorPayload[];
  /** HTTP status, where there was a response */
  readonly status?: number;
  /** the GraphQL operation or the endpoint that failed */
  readonly operation?: string;

  constructor(
    readonly code: ExciteErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; errors?: readonly ServiceErrorPayload[]; status?: number; operation?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.details = options.details ?? {};
    this.errors = options.errors ?? [];
    this.status = options.status;
    this.operation = options.operation;
  }

  /** From a GraphQL response's `errors` (the first one's code; no code: INTERNAL_SERVER_ERROR). */
  static fromGraphQL(errors: readonly ServiceErrorPayload[], context: { status?: number; operation?: string } = {}): ExciteError {
    const [first] = errors;
    const { code, ...details } = first.extensions ?? {};
    const message = errors.length > 1 ? `${first.message} (and ${errors.length - 1} more errors)` : first.message;
    return new ExciteError((code ?? ErrorCode.INTERNAL_SERVER_ERROR) as ExciteErrorCode, message, { details, errors, ...context });
  }
}

/** Whether `e` is an ExciteError (with one of `codes`, when given). */
export function isExciteError<C extends ExciteErrorCode>(e: unknown, ...codes: C[]): e is ExciteError & { code: C } {
  return e instanceof ExciteError && (codes.length === 0 || (codes as string[]).includes(e.code));
}
