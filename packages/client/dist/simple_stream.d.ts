export interface Citation {
    documentId: string;
    chunkIndex: number;
    title: string;
    snippet: string;
    url?: string;
}
/** The simple stream's events (README "Conversations and chat"). */
export type SimpleEvent = {
    type: "start";
    message_id: string;
} | {
    type: "token";
    content: string;
} | {
    type: "citation";
    citation: Citation;
} | {
    type: "title_update";
    title: string;
} | {
    type: "notice";
    code: string;
    message: string;
} | {
    type: "done";
    message_id: string;
    citations: Citation[];
} | {
    type: "error";
    error: string;
    code: string;
};
export interface SimpleReply {
    /** The reply's message id (from `start` or `done`); null if the stream ended without one. */
    messageId: string | null;
    text: string;
    citations: Citation[];
    /** Set when the reply ended with an error or was stopped (code "aborted"). */
    error?: {
        code: string;
        message: string;
    };
}
/** Parses Server-Sent Events `data:` payloads as JSON, skipping comments and `[DONE]`. */
export declare function sseJson(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown>;
export declare class SimpleStream implements AsyncIterable<SimpleEvent> {
    #private;
    /**
     * `open` starts the request with the given signal; `findReply` finds the reply being
     * generated when no event has named it yet; `stopReply` calls the stop endpoint.
     */
    constructor(options: {
        open: (signal: AbortSignal) => Promise<Response>;
        findReply: () => Promise<string | null>;
        stopReply: (messageId: string) => Promise<unknown>;
        signal?: AbortSignal;
    });
    /** The reply's id once the stream has named it. */
    get messageId(): string | null;
    [Symbol.asyncIterator](): AsyncIterator<SimpleEvent>;
    /** Reads the whole reply. */
    text(): Promise<SimpleReply>;
    /** Stops generating (the reply ends "aborted", its partial text kept) and closes the stream. */
    stop(): Promise<unknown>;
    /** Closes the connection only: the reply goes on and is saved (resume it later). */
    abort(): void;
}
//# sourceMappingURL=simple_stream.d.ts.map