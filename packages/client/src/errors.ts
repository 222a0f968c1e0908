// Every failed call throws an AideError: the API's JSON error ({error: {code, message,
// details}}), the platform's JWT check ({code, message}), or a failure to reach the API at all.

export class AideError extends Error {
  override readonly name = "AideError";

  constructor(
    /** HTTP status; 0 when no response arrived (network error, aborted). */
    readonly status: number,
    /** Machine-readable: "rate_limited", "not_found", "budget_exceeded", "network_error", ... */
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** The x-request-id of the failed request, to find it in the function's logs. */
    readonly requestId?: string,
  ) {
    super(message);
  }

  /** Builds the error from a failed response, consuming its body. */
  static async fromResponse(response: Response): Promise<AideError> {
    const requestId = response.headers.get("x-request-id") ?? undefined;
    const text = await response.text().catch(() => "");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const error = (body as {
      error?: { code?: unknown; message?: unknown; details?: unknown };
    })
      ?.error;
    if (error && typeof error.code === "string") {
      return new AideError(
        response.status,
        error.code,
        String(error.message ?? response.statusText),
        error.details,
        requestId,
      );
    }
    // The platform's own answers (gateway JWT check): {code: 401, message: "Invalid JWT"}.
    const platform = body as { message?: unknown } | undefined;
    const message = typeof platform?.message === "string"
      ? platform.message
      : text.slice(0, 500) || response.statusText || `HTTP ${response.status}`;
    return new AideError(
      response.status,
      codeForStatus(response.status),
      message,
      undefined,
      requestId,
    );
  }
}

function codeForStatus(status: number) {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server_error";
  return "http_error";
}

export const isAideError = (e: unknown): e is AideError =>
  e instanceof AideError;
