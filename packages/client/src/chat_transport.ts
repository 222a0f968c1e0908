// A `useChat` transport for one conversation: the AI SDK's DefaultChatTransport pointed at
// Aide, sending Aide's own request body (so edits carry `parent_id`), regenerating through the
// regenerate endpoint, resuming a reply still being generated after a reload, and making
// useChat's `stop()` really stop the reply (the AI SDK only closes the connection, and a closed
// connection does not stop an Aide reply).
import { DefaultChatTransport, type UIMessage, type UIMessageChunk } from "ai";
import type { Transport } from "./http.ts";

/** What a chat request may carry in `sendMessage(message, { body })`. */
export interface AideChatBody {
  /** Edit: send as a sibling of a message with this parent (null: the first message). */
  parent_id?: string | null;
  /** Documents to put in the model's context. */
  mentions?: string[];
  model?: string;
}

export interface ChatTransportOptions {
  /** The model for new replies (default: the conversation's). */
  model?: string;
}

interface ConversationCalls {
  runningReply(id: string): Promise<string | null>;
  stop(id: string, messageId: string): Promise<unknown>;
}

const withoutUndefined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export class AideChatTransport<M extends UIMessage = UIMessage>
  extends DefaultChatTransport<M> {
  readonly conversationId: string;
  #calls: ConversationCalls;
  /** The reply this transport is streaming (from the `start` chunk), until it ends. */
  #replyId: string | null = null;
  #resumeUrl = "";

  constructor(
    transport: Transport,
    calls: ConversationCalls,
    conversationId: string,
    options: ChatTransportOptions = {},
  ) {
    const api = `${transport.functionsUrl}/conversations/${
      encodeURIComponent(conversationId)
    }/messages`;
    super({
      api,
      // Auth and the retry policy come with the SDK's fetch; errors are AideErrors.
      fetch: (input, init) => transport.fetch(input as string, init),
    });
    this.conversationId = conversationId;
    this.#calls = calls;
    this.prepareSendMessagesRequest = (
      { messages, trigger, messageId, body },
    ) => {
      const extra = (body ?? {}) as AideChatBody;
      const model = extra.model ?? options.model;
      if (trigger === "regenerate-message" && messageId) {
        return {
          api: `${api}/${encodeURIComponent(messageId)}/regenerate`,
          body: withoutUndefined({ model }),
        };
      }
      const last = messages.findLast((m) => m.role === "user");
      const content =
        last?.parts.map((p) => (p.type === "text" ? p.text : "")).join("") ??
          "";
      return {
        body: withoutUndefined({
          content,
          client_message_id: last?.id,
          parent_id: extra.parent_id,
          mentions: extra.mentions?.length ? extra.mentions : undefined,
          model,
        }),
      };
    };
    this.prepareReconnectToStreamRequest = () => ({ api: this.#resumeUrl });
    this.#resumeUrl = api;
  }

  /** Stops the reply being streamed (or, before its id is known, the conversation's running one). */
  async stop(): Promise<void> {
    const id = this.#replyId ??
      await this.#calls.runningReply(this.conversationId);
    if (id) await this.#calls.stop(this.conversationId, id);
  }

  override async sendMessages(
    options: Parameters<DefaultChatTransport<M>["sendMessages"]>[0],
  ): Promise<ReadableStream<UIMessageChunk>> {
    this.#replyId = null;
    this.#stopOnAbort(options.abortSignal);
    return this.#track(await super.sendMessages(options));
  }

  /** After a reload: follows the reply still being generated on the active branch, if any. */
  override async reconnectToStream(
    options: Parameters<DefaultChatTransport<M>["reconnectToStream"]>[0],
  ): Promise<ReadableStream<UIMessageChunk> | null> {
    const id = await this.#calls.runningReply(this.conversationId);
    if (!id) return null;
    this.#replyId = id;
    this.#resumeUrl = `${this.api}/${encodeURIComponent(id)}/stream`;
    this.#stopOnAbort(options.abortSignal);
    const stream = await super.reconnectToStream(options);
    return stream && this.#track(stream);
  }

  #stopOnAbort(signal: AbortSignal | undefined) {
    signal?.addEventListener("abort", () => {
      this.stop().catch(() => {}); // best effort: the reply may have just ended
    }, { once: true });
  }

  /** Notes the reply's id from `start`, and forgets it once the reply has ended. */
  #track(stream: ReadableStream<UIMessageChunk>) {
    return stream.pipeThrough(
      new TransformStream<UIMessageChunk, UIMessageChunk>({
        transform: (chunk, controller) => {
          if (chunk.type === "start" && chunk.messageId) {
            this.#replyId = chunk.messageId;
          }
          if (
            chunk.type === "finish" || chunk.type === "abort" ||
            chunk.type === "error"
          ) {
            this.#replyId = null;
          }
          controller.enqueue(chunk);
        },
      }),
    );
  }
}
