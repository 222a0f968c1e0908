// Every failed call throws an AideError: the API's JSON error ({error: {code, message,
// details}}), the platform's JWT check ({code, message}), or a failure to reach the API at all.
export class AideError extends Error {
    status;
    code;
    details;
    requestId;
    name = "AideError";
    constructor(
    /** HTTP status; 0 when no response arrived (network error, aborted). */
    status, 
    /** Machine-readable: "rate_limited", "not_found", "budget_exceeded", "network_error", ... */
    code, message, details, 
    /** The x-request-id of the failed request, to find it in the function's logs. */
    requestId) {
        super(message);
        this.status = status;
        this.code = code;
        this.details = details;
        this.requestId = requestId;
    }
    /** Builds the error from a failed response, consuming its body. */
    static async fromResponse(response) {
        const requestId = response.headers.get("x-request-id") ?? undefined;
        const text = await response.text().catch(() => "");
        let body;
        try {
            body = JSON.parse(text);
        }
        catch {
            body = undefined;
        }
        const error = body
            ?.error;
        if (error && typeof error.code === "string") {
            return new AideError(response.status, error.code, String(error.message ?? response.statusText), error.details, requestId);
        }
        // The platform's own answers (gateway JWT check): {code: 401, message: "Invalid JWT"}.
        const platform = body;
        const message = typeof platform?.message === "string"
            ? platform.message
            : text.slice(0, 500) || response.statusText || `HTTP ${response.status}`;
        return new AideError(response.status, codeForStatus(response.status), message, undefined, requestId);
    }
}
function codeForStatus(status) {
    if (status === 401)
        return "unauthorized";
    if (status === 403)
        return "forbidden";
    if (status === 404)
        return "not_found";
    if (status === 429)
        return "rate_limited";
    if (status >= 500)
        return "server_error";
    return "http_error";
}
export const isAideError = (e) => e instanceof AideError;
//# sourceMappingURL=errors.js.map