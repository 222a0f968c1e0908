import { type Api, type BodyOf, type QueryOf, type ResponseOf } from "./api.ts";
import type { Transport } from "./http.ts";
import { SimpleStream } from "./simple_stream.ts";
export type Conversation = ResponseOf<"/conversations/{id}", "get">;
export type SendOptions = Extract<BodyOf<"/conversations/{id}/messages", "post">, {
    content: string;
}>;
/** What the SDK reads of a stored message (the API returns more). */
export interface MessageLike {
    id: string;
    parent_id: string | null;
    role: string;
    status: string;
}
export declare function conversationsResource(api: Api, transport: Transport): {
    /** The sidebar: pinned first, then by last activity, each with its date `group`. */
    list: (query?: QueryOf<"/conversations", "get">) => Promise<unknown>;
    create: (body?: BodyOf<"/conversations", "post">) => Promise<unknown>;
    /** The conversation with the newest 50 messages of its active branch. */
    get: (id: string) => Promise<unknown>;
    update: (id: string, body: BodyOf<"/conversations/{id}", "patch">) => Promise<unknown>;
    delete: (id: string) => Promise<void>;
    /** Toggles the pin. */
    pin: (id: string) => Promise<unknown>;
    /** Older messages of a branch (`leaf`: another branch than the active one). */
    messages: (id: string, query?: QueryOf<"/conversations/{id}/messages", "get">) => Promise<unknown>;
    send: (id: string, body: SendOptions, options?: {
        signal?: AbortSignal;
    }) => SimpleStream;
    /** Stops a reply being generated, from any device; resolves with the stopped message. */
    stop: (id: string, messageId: string) => Promise<unknown>;
    /** Follows a reply: what it has so far, then the rest as it comes. */
    resume: (id: string, messageId: string, options?: {
        signal?: AbortSignal;
    }) => SimpleStream;
    /** A new reply to the same user message, as a sibling of `messageId` (an assistant message). */
    regenerate: (id: string, messageId: string, options?: {
        model?: string;
        signal?: AbortSignal;
    }) => SimpleStream;
    /**
     * Edits a user message: the new text becomes a sibling of `message` (same parent), a new
     * branch; nothing is deleted, and the old branch stays reachable.
     */
    edit: (id: string, message: Pick<MessageLike, "parent_id">, content: string, options?: Omit<SendOptions, "content" | "parent_id"> & {
        signal?: AbortSignal;
    }) => SimpleStream;
    /** Shows another branch: `leafId` becomes the active leaf. */
    switchBranch: (id: string, leafId: string) => Promise<unknown>;
    /** The id of the reply being generated on the active branch, or null. */
    runningReply: (id: string) => Promise<string | null>;
};
//# sourceMappingURL=conversations.d.ts.map