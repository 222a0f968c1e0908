// @aide/client: a typed client for the Aide API.
//
//   const aide = createAideClient({ url: SUPABASE_URL, supabase });
//   const conversation = await aide.conversations.create({ title: "Trip" });
//   for await (const event of aide.streamSimple(conversation.id, { content: "Hi" })) ...
//   useChat({ id, transport: aide.chatTransport(id) });
import { accountResource, healthCheck, modelsResource } from "./account.js";
import { createApi } from "./api.js";
import { AideChatTransport } from "./chat_transport.js";
import { conversationsResource } from "./conversations.js";
import { documentsResource, searchFunction } from "./documents.js";
import { createTransport } from "./http.js";
import { adminResource, usageResource } from "./usage.js";
export function createAideClient(options) {
    const transport = createTransport(options);
    const api = createApi(transport);
    const conversations = conversationsResource(api, transport);
    return {
        conversations,
        documents: documentsResource(api, transport),
        search: searchFunction(api),
        usage: usageResource(api),
        account: accountResource(api),
        models: modelsResource(api),
        admin: adminResource(api),
        health: healthCheck(api),
        /** Streams a reply as simple events (`for await`), with stop() and text(). */
        streamSimple: conversations.send,
        /** A useChat transport for one conversation (stop, regenerate, resume, edits). */
        chatTransport: (conversationId, transportOptions) => new AideChatTransport(transport, conversations, conversationId, transportOptions),
        /** The typed openapi-fetch client, for any operation (`api.GET("/health")`). */
        api,
    };
}
export { AideError, isAideError } from "./errors.js";
export { retryDelayMs } from "./http.js";
export { AideChatTransport } from "./chat_transport.js";
export { SimpleStream } from "./simple_stream.js";
export { citationsOf, toUIMessage, toUIMessages } from "./ui_messages.js";
//# sourceMappingURL=index.js.map