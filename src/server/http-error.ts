/**
 * @module server/http-error — the one error type routes throw, and the JSON error body every 4xx/5xx
 * carries: `{error, code}` (the original's `ErrorBody`). Codes are stable strings, never reused.
 */

export interface ErrorBody {
  error: string;
  code: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }

  body(): ErrorBody {
    return { error: this.message, code: this.code };
  }

  toResponse(): Response {
    return Response.json(this.body(), { status: this.status });
  }
}
