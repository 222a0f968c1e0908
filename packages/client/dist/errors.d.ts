export declare class AideError extends Error {
    /** HTTP status; 0 when no response arrived (network error, aborted). */
    readonly status: number;
    /** Machine-readable: "rate_limited", "not_found", "budget_exceeded", "network_error", ... */
    readonly code: string;
    readonly details?: unknown | undefined;
    /** The x-request-id of the failed request, to find it in the function's logs. */
    readonly requestId?: string | undefined;
    readonly name = "AideError";
    constructor(
    /** HTTP status; 0 when no response arrived (network error, aborted). */
    status: number, 
    /** Machine-readable: "rate_limited", "not_found", "budget_exceeded", "network_error", ... */
    code: string, message: string, details?: unknown | undefined, 
    /** The x-request-id of the failed request, to find it in the function's logs. */
    requestId?: string | undefined);
    /** Builds the error from a failed response, consuming its body. */
    static fromResponse(response: Response): Promise<AideError>;
}
export declare const isAideError: (e: unknown) => e is AideError;
//# sourceMappingURL=errors.d.ts.map