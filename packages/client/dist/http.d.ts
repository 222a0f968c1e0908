/** The part of a supabase-js client the SDK uses (so supabase-js is not a dependency). */
export interface SupabaseAuthLike {
    auth: {
        getSession(): Promise<{
            data: {
                session: {
                    access_token: string;
                } | null;
            };
        }>;
        refreshSession?(): Promise<{
            data: {
                session: {
                    access_token: string;
                } | null;
            };
        }>;
    };
}
export interface AideClientOptions {
    /** The project's URL (SUPABASE_URL), e.g. http://127.0.0.1:54321 or https://<ref>.supabase.co */
    url: string;
    /** Take the user's token from this supabase-js client's session. */
    supabase?: SupabaseAuthLike;
    /** Or a fixed token, or a function returning the current one. */
    accessToken?: string | (() => string | Promise<string>);
    /** Sent as `apikey` when given (the project's anon key); functions do not need it. */
    apiKey?: string;
    /** Retries of 429 and 503 (default 3). */
    retries?: number;
    /** The longest wait before a retry (default 30000 ms). */
    maxRetryDelayMs?: number;
    /** A fetch to use instead of globalThis.fetch. */
    fetch?: typeof fetch;
}
export interface Transport {
    functionsUrl: string;
    /**
     * fetch with the caller's token and the retry policy; throws AideError unless `ok`. `via`
     * sends each attempt instead of the client's fetch (uploads with progress).
     */
    fetch(input: string | URL | Request, init?: RequestInit, via?: (request: Request) => Promise<Response>): Promise<Response>;
    /** Just the auth headers, for requests made by other code (the useChat transport). */
    authHeaders(): Promise<Record<string, string>>;
}
/** How long to wait before retry number `attempt` (0-based), or null to give up. */
export declare function retryDelayMs(response: Response | null, attempt: number, maxDelayMs: number): number | null;
export declare function createTransport(options: AideClientOptions): Transport;
//# sourceMappingURL=http.d.ts.map