// Conversations (function `conversations`): CRUD and the sidebar list, history by branch, and
// chat: send, stop, resume, regenerate, edit (a sibling branch), switching branch.
import { type Api, type BodyOf, data, type QueryOf, type ResponseOf } from "./api.ts";
import type { Transport } from "./http.ts";
import { SimpleStream } from "./simple_stream.ts";
import { postForm, type UploadProgress } from "./upload.ts";

export type Conversation = ResponseOf<"/conversations/{id}", "get">;
export type SendOptions = Extract<
  BodyOf<"/conversations/{id}/messages", "post">,
  { content: string }
>;

/** What the SDK reads of a stored message (the API returns more). */
export interface MessageLike {
  id: string;
  parent_id: string | null;
  role: string;
  status: string;
}

const RUNNING = new Set(["pending", "streaming"]);

export function conversationsResource(api: Api, transport: Transport) {
  const path = (id: string) => ({ params: { path: { id } } });
  const messagePath = (id: string, messageId: string) => ({
    params: { path: { id, messageId } },
  });
  const url = (id: string, rest = "") =>
    `${transport.functionsUrl}/conversations/${encodeURIComponent(id)}/messages${rest}`;

  const get = (id: string) => data(api.GET("/conversations/{id}", path(id)));

  /** The reply being generated on the active branch, if there is one. */
  async function runningReply(id: string): Promise<string | null> {
    const conversation = await get(id) as {
      active_leaf_id: string | null;
      messages: MessageLike[];
    };
    const leaf = conversation.messages.find((m) => m.id === conversation.active_leaf_id);
    return leaf && leaf.role === "assistant" && RUNNING.has(leaf.status) ? leaf.id : null;
  }

  const stop = (id: string, messageId: string) =>
    data(
      api.POST(
        "/conversations/{id}/messages/{messageId}/stop",
        messagePath(id, messageId),
      ),
    );

  function simpleStream(
    id: string,
    request: (signal: AbortSignal) => Promise<Response>,
    signal?: AbortSignal,
  ) {
    return new SimpleStream({
      open: request,
      findReply: () => runningReply(id),
      stopReply: (messageId) => stop(id, messageId),
      signal,
    });
  }

  const post = (target: string, body: unknown, signal: AbortSignal) =>
    transport.fetch(`${target}?stream=simple`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });

  /** Sends a message; the reply streams as simple events. */
  function send(
    id: string,
    body: SendOptions,
    options: { signal?: AbortSignal } = {},
  ) {
    return simpleStream(
      id,
      (signal) => post(url(id), body, signal),
      options.signal,
    );
  }

  return {
    /** The sidebar: pinned first, then by last activity, each with its date `group`. */
    list: (query: QueryOf<"/conversations", "get"> = {}) =>
      data(api.GET("/conversations", { params: { query } })),
    create: (body: BodyOf<"/conversations", "post"> = {}) =>
      data(api.POST("/conversations", { body })),
    /** The conversation with the newest 50 messages of its active branch. */
    get,
    update: (id: string, body: BodyOf<"/conversations/{id}", "patch">) =>
      data(api.PATCH("/conversations/{id}", { ...path(id), body })),
    delete: async (id: string) => {
      await api.DELETE("/conversations/{id}", path(id));
    },
    /** Toggles the pin. */
    pin: (id: string) => data(api.POST("/conversations/{id}/pin", path(id))),
    /** Older messages of a branch (`leaf`: another branch than the active one). */
    messages: (
      id: string,
      query: QueryOf<"/conversations/{id}/messages", "get"> = {},
    ) =>
      data(
        api.GET("/conversations/{id}/messages", {
          ...path(id),
          params: { ...path(id).params, query },
        }),
      ),

    send,
    /** Rates a reply (`up` or `down`, optional comment); rating again replaces it. */
    feedback: (
      id: string,
      messageId: string,
      body: BodyOf<"/conversations/{id}/messages/{messageId}/feedback", "post">,
    ) =>
      data(
        api.POST("/conversations/{id}/messages/{messageId}/feedback", {
          ...messagePath(id, messageId),
          body,
        }),
      ),
    /** The active branch as a file: the JSON export, or Markdown text (throws AideError). */
    export: async (id: string, format: "json" | "markdown" = "json") => {
      const res = await transport.fetch(
        `${transport.functionsUrl}/conversations/${encodeURIComponent(id)}/export?format=${format}`,
      );
      return format === "json" ? await res.json() : await res.text();
    },
    /** A read-only link to the conversation as it is now; `token` and `url` are shown only here. */
    share: (
      id: string,
      body: BodyOf<"/conversations/{id}/share", "post"> = {},
    ) => data(api.POST("/conversations/{id}/share", { ...path(id), body })),
    /**
     * Uploads a file (image, PDF, text) to send with a message: pass the answer's `id` in
     * `attachments` when sending (Aide's body, or useChat's through `sendMessage(m, {body})`).
     */
    async attach(
      id: string,
      file: Blob,
      options: {
        filename?: string;
        onProgress?: (progress: UploadProgress) => void;
        signal?: AbortSignal;
      } = {},
    ): Promise<ResponseOf<"/conversations/{id}/attachments", "post">> {
      const form = new FormData();
      form.append(
        "file",
        file,
        options.filename ?? (file as File).name ?? "attachment",
      );
      const url = `${transport.functionsUrl}/conversations/${encodeURIComponent(id)}/attachments`;
      return await (await postForm(transport, url, form, options)).json();
    },
    /** Deletes an attachment: its file and its row. */
    removeAttachment: async (id: string, attachmentId: string) => {
      await api.DELETE("/conversations/{id}/attachments/{attachmentId}", {
        params: { path: { id, attachmentId } },
      });
    },
    /** The conversation's share links (without tokens). */
    shares: (id: string) => data(api.GET("/conversations/{id}/shares", path(id))),
    /** Revokes a share link: it stops working at once. */
    revokeShare: async (id: string, shareId: string) => {
      await api.DELETE("/conversations/{id}/shares/{shareId}", {
        params: { path: { id, shareId } },
      });
    },
    /** The files chat tools made in the conversation (artifacts), oldest first; `next_cursor` pages. */
    artifacts: (id: string, query: QueryOf<"/conversations/{id}/artifacts", "get"> = {}) =>
      data(api.GET("/conversations/{id}/artifacts", { params: { path: { id }, query } })),
    /** One artifact's bytes, with its media type (throws AideError). */
    downloadArtifact: async (id: string, artifactId: string): Promise<Blob> => {
      const res = await transport.fetch(
        `${transport.functionsUrl}/conversations/${encodeURIComponent(id)}/artifacts/${
          encodeURIComponent(artifactId)
        }`,
      );
      return await res.blob();
    },
    /** Stops a reply being generated, from any device; resolves with the stopped message. */
    stop,
    /** Follows a reply: what it has so far, then the rest as it comes. */
    resume: (
      id: string,
      messageId: string,
      options: { signal?: AbortSignal } = {},
    ) =>
      simpleStream(
        id,
        (signal) =>
          transport.fetch(
            url(id, `/${encodeURIComponent(messageId)}/stream?stream=simple`),
            { signal },
          ),
        options.signal,
      ),
    /** A new reply to the same user message, as a sibling of `messageId` (an assistant message). */
    regenerate: (
      id: string,
      messageId: string,
      options: { model?: string; signal?: AbortSignal } = {},
    ) =>
      simpleStream(
        id,
        (signal) =>
          post(
            url(id, `/${encodeURIComponent(messageId)}/regenerate`),
            options.model ? { model: options.model } : {},
            signal,
          ),
        options.signal,
      ),
    /**
     * Edits a user message: the new text becomes a sibling of `message` (same parent), a new
     * branch; nothing is deleted, and the old branch stays reachable.
     */
    edit: (
      id: string,
      message: Pick<MessageLike, "parent_id">,
      content: string,
      options: Omit<SendOptions, "content" | "parent_id"> & {
        signal?: AbortSignal;
      } = {},
    ) => {
      const { signal, ...rest } = options;
      return send(id, { ...rest, content, parent_id: message.parent_id }, {
        signal,
      });
    },
    /** Shows another branch: `leafId` becomes the active leaf. */
    switchBranch: (id: string, leafId: string) =>
      data(
        api.PATCH("/conversations/{id}", {
          ...path(id),
          body: { active_leaf_id: leafId },
        }),
      ),
    /** The id of the reply being generated on the active branch, or null. */
    runningReply,
  };
}
