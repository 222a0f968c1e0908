import { AideChatTransport, type ChatTransportOptions } from "./chat_transport.ts";
import { type AideClientOptions } from "./http.ts";
export declare function createAideClient(options: AideClientOptions): {
    conversations: {
        list: (query?: import("./api.ts").QueryOf<"/conversations", "get">) => Promise<unknown>;
        create: (body?: import("./api.ts").BodyOf<"/conversations", "post">) => Promise<unknown>;
        get: (id: string) => Promise<unknown>;
        update: (id: string, body: import("./api.ts").BodyOf<"/conversations/{id}", "patch">) => Promise<unknown>;
        delete: (id: string) => Promise<void>;
        pin: (id: string) => Promise<unknown>;
        messages: (id: string, query?: import("./api.ts").QueryOf<"/conversations/{id}/messages", "get">) => Promise<unknown>;
        send: (id: string, body: import("./conversations.ts").SendOptions, options?: {
            signal?: AbortSignal;
        }) => import("./simple_stream.ts").SimpleStream;
        stop: (id: string, messageId: string) => Promise<unknown>;
        resume: (id: string, messageId: string, options?: {
            signal?: AbortSignal;
        }) => import("./simple_stream.ts").SimpleStream;
        regenerate: (id: string, messageId: string, options?: {
            model?: string;
            signal?: AbortSignal;
        }) => import("./simple_stream.ts").SimpleStream;
        edit: (id: string, message: Pick<import("./conversations.ts").MessageLike, "parent_id">, content: string, options?: Omit<import("./conversations.ts").SendOptions, "content" | "parent_id"> & {
            signal?: AbortSignal;
        }) => import("./simple_stream.ts").SimpleStream;
        switchBranch: (id: string, leafId: string) => Promise<unknown>;
        runningReply: (id: string) => Promise<string | null>;
    };
    documents: {
        list: (query?: import("./api.ts").QueryOf<"/documents", "get">) => Promise<unknown>;
        create: (body: import("./api.ts").BodyOf<"/documents", "post">) => Promise<unknown>;
        get: (id: string) => Promise<unknown>;
        update: (id: string, body: import("./api.ts").BodyOf<"/documents/{id}", "patch">) => Promise<unknown>;
        delete: (id: string) => Promise<void>;
        upload(file: Blob, options?: import("./documents.ts").UploadOptions): Promise<import("./api.ts").ResponseOf<"/documents", "post">>;
        waitUntilReady(id: string, options?: import("./documents.ts").WaitOptions): Promise<unknown>;
    };
    search: (query: import("./documents.ts").SearchQuery) => Promise<unknown>;
    usage: {
        get: (query?: import("./api.ts").QueryOf<"/usage", "get">) => Promise<unknown>;
        admin: {
            topUsers: (query?: import("./api.ts").QueryOf<"/usage/admin/top-users", "get">) => Promise<unknown>;
            byModel: (query?: import("./api.ts").QueryOf<"/usage/admin/by-model", "get">) => Promise<unknown>;
            users: (query?: import("./api.ts").QueryOf<"/usage/admin/users", "get">) => Promise<unknown>;
        };
    };
    account: {
        me: () => Promise<unknown>;
        update: (body: import("./api.ts").BodyOf<"/account/me", "patch">) => Promise<unknown>;
        export: () => Promise<unknown>;
        delete: () => Promise<void>;
    };
    models: {
        list: () => Promise<unknown>;
    };
    admin: {
        models: {
            list: () => Promise<unknown>;
            create: (body: import("./api.ts").BodyOf<"/admin/models", "post">) => Promise<unknown>;
            update: (alias: string, body: import("./api.ts").BodyOf<"/admin/models/{alias}", "patch">) => Promise<unknown>;
            prices: (alias: string) => Promise<unknown>;
            addPrice: (alias: string, body: import("./api.ts").BodyOf<"/admin/models/{alias}/prices", "post">) => Promise<unknown>;
        };
    };
    health: () => Promise<unknown>;
    /** Streams a reply as simple events (`for await`), with stop() and text(). */
    streamSimple: (id: string, body: import("./conversations.ts").SendOptions, options?: {
        signal?: AbortSignal;
    }) => import("./simple_stream.ts").SimpleStream;
    /** A useChat transport for one conversation (stop, regenerate, resume, edits). */
    chatTransport: <M extends import("ai").UIMessage = import("./ui_messages.ts").AideUIMessage>(conversationId: string, transportOptions?: ChatTransportOptions) => AideChatTransport<M>;
    /** The typed openapi-fetch client, for any operation (`api.GET("/health")`). */
    api: import("openapi-fetch").Client<import("./generated/openapi.ts").paths, `${string}/${string}`>;
};
export type AideClient = ReturnType<typeof createAideClient>;
export { AideError, isAideError } from "./errors.ts";
export { retryDelayMs } from "./http.ts";
export type { AideClientOptions, SupabaseAuthLike } from "./http.ts";
export { AideChatTransport } from "./chat_transport.ts";
export type { AideChatBody, ChatTransportOptions } from "./chat_transport.ts";
export { SimpleStream } from "./simple_stream.ts";
export type { Citation, SimpleEvent, SimpleReply } from "./simple_stream.ts";
export type { UploadProgress } from "./upload.ts";
export type { Document, SearchQuery, UploadOptions, WaitOptions } from "./documents.ts";
export type { Conversation, SendOptions } from "./conversations.ts";
export { citationsOf, toUIMessage, toUIMessages } from "./ui_messages.ts";
export type { AideMessageMetadata, AideUIMessage, SourceCitation, StoredMessage, StoredPart } from "./ui_messages.ts";
export type { paths } from "./generated/openapi.ts";
export type { Database, Json } from "./generated/database.ts";
//# sourceMappingURL=index.d.ts.map