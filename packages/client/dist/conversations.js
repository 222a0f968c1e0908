// Conversations (function `conversations`): CRUD and the sidebar list, history by branch, and
// chat: send, stop, resume, regenerate, edit (a sibling branch), switching branch.
import { data } from "./api.js";
import { SimpleStream } from "./simple_stream.js";
const RUNNING = new Set(["pending", "streaming"]);
export function conversationsResource(api, transport) {
    const path = (id) => ({ params: { path: { id } } });
    const messagePath = (id, messageId) => ({
        params: { path: { id, messageId } },
    });
    const url = (id, rest = "") => `${transport.functionsUrl}/conversations/${encodeURIComponent(id)}/messages${rest}`;
    const get = (id) => data(api.GET("/conversations/{id}", path(id)));
    /** The reply being generated on the active branch, if there is one. */
    async function runningReply(id) {
        const conversation = await get(id);
        const leaf = conversation.messages.find((m) => m.id === conversation.active_leaf_id);
        return leaf && leaf.role === "assistant" && RUNNING.has(leaf.status) ? leaf.id : null;
    }
    const stop = (id, messageId) => data(api.POST("/conversations/{id}/messages/{messageId}/stop", messagePath(id, messageId)));
    function simpleStream(id, request, signal) {
        return new SimpleStream({
            open: request,
            findReply: () => runningReply(id),
            stopReply: (messageId) => stop(id, messageId),
            signal,
        });
    }
    const post = (target, body, signal) => transport.fetch(`${target}?stream=simple`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal,
    });
    /** Sends a message; the reply streams as simple events. */
    function send(id, body, options = {}) {
        return simpleStream(id, (signal) => post(url(id), body, signal), options.signal);
    }
    return {
        /** The sidebar: pinned first, then by last activity, each with its date `group`. */
        list: (query = {}) => data(api.GET("/conversations", { params: { query } })),
        create: (body = {}) => data(api.POST("/conversations", { body })),
        /** The conversation with the newest 50 messages of its active branch. */
        get,
        update: (id, body) => data(api.PATCH("/conversations/{id}", { ...path(id), body })),
        delete: async (id) => {
            await api.DELETE("/conversations/{id}", path(id));
        },
        /** Toggles the pin. */
        pin: (id) => data(api.POST("/conversations/{id}/pin", path(id))),
        /** Older messages of a branch (`leaf`: another branch than the active one). */
        messages: (id, query = {}) => data(api.GET("/conversations/{id}/messages", { ...path(id), params: { ...path(id).params, query } })),
        send,
        /** Stops a reply being generated, from any device; resolves with the stopped message. */
        stop,
        /** Follows a reply: what it has so far, then the rest as it comes. */
        resume: (id, messageId, options = {}) => simpleStream(id, (signal) => transport.fetch(url(id, `/${encodeURIComponent(messageId)}/stream?stream=simple`), { signal }), options.signal),
        /** A new reply to the same user message, as a sibling of `messageId` (an assistant message). */
        regenerate: (id, messageId, options = {}) => simpleStream(id, (signal) => post(url(id, `/${encodeURIComponent(messageId)}/regenerate`), options.model ? { model: options.model } : {}, signal), options.signal),
        /**
         * Edits a user message: the new text becomes a sibling of `message` (same parent), a new
         * branch; nothing is deleted, and the old branch stays reachable.
         */
        edit: (id, message, content, options = {}) => {
            const { signal, ...rest } = options;
            return send(id, { ...rest, content, parent_id: message.parent_id }, { signal });
        },
        /** Shows another branch: `leafId` becomes the active leaf. */
        switchBranch: (id, leafId) => data(api.PATCH("/conversations/{id}", { ...path(id), body: { active_leaf_id: leafId } })),
        /** The id of the reply being generated on the active branch, or null. */
        runningReply,
    };
}
//# sourceMappingURL=conversations.js.map