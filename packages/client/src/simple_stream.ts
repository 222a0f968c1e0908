// `?stream=simple` replies as an async iterator of events, with stop() (which really stops
// the reply, through the stop endpoint) and text() (waits for the whole reply).
import { AideError } from "./errors.ts";

export interface Citation {
  documentId: string;
  chunkIndex: number;
  title: string;
  snippet: string;
  url?: string;
}

/** The simple stream's events (README "Conversations and chat"). */
export type SimpleEvent =
  | { type: "start"; message_id: string }
  | { type: "token"; content: string }
  | { type: "citation"; citation: Citation }
  | { type: "title_update"; title: string }
  | { type: "notice"; code: string; message: string }
  /** A data part, e.g. the planner's proposed plan (`name: "plan"`). */
  | { type: "data"; name: string; id: string; data: unknown }
  | { type: "done"; message_id: string; citations: Citation[] }
  | { type: "error"; error: string; code: string };

export interface SimpleReply {
  /** The reply's message id (from `start` or `done`); null if the stream ended without one. */
  messageId: string | null;
  text: string;
  citations: Citation[];
  /** Set when the reply ended with an error or was stopped (code "aborted"). */
  error?: { code: string; message: string };
}

/** Parses Server-Sent Events `data:` payloads as JSON, skipping comments and `[DONE]`. */
export async function* sseJson(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<unknown> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const payload = frame.split("\n").filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart()).join("\n");
        if (payload && payload !== "[DONE]") yield JSON.parse(payload);
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}

export class SimpleStream implements AsyncIterable<SimpleEvent> {
  #abort = new AbortController();
  #response: Promise<Response>;
  #messageId: string | null = null;
  #findReply: () => Promise<string | null>;
  #stopReply: (messageId: string) => Promise<unknown>;
  #consumed = false;

  /**
   * `open` starts the request with the given signal; `findReply` finds the reply being
   * generated when no event has named it yet; `stopReply` calls the stop endpoint.
   */
  constructor(options: {
    open: (signal: AbortSignal) => Promise<Response>;
    findReply: () => Promise<string | null>;
    stopReply: (messageId: string) => Promise<unknown>;
    signal?: AbortSignal;
  }) {
    options.signal?.addEventListener("abort", () => this.#abort.abort(), {
      once: true,
    });
    this.#response = options.open(this.#abort.signal);
    this.#response.catch(() => {}); // surfaced on iteration
    this.#findReply = options.findReply;
    this.#stopReply = options.stopReply;
  }

  /** The reply's id once the stream has named it. */
  get messageId() {
    return this.#messageId;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SimpleEvent> {
    if (this.#consumed) throw new TypeError("A SimpleStream can be read once");
    this.#consumed = true;
    const response = await this.#response;
    try {
      for await (const value of sseJson(response.body!)) {
        const event = value as SimpleEvent;
        if (event.type === "start" || event.type === "done") {
          this.#messageId = event.message_id;
        }
        yield event;
        if (event.type === "done" || event.type === "error") return;
      }
    } catch (error) {
      if (this.#abort.signal.aborted) return; // closed by abort(): not an error
      throw new AideError(
        0,
        "stream_error",
        "The reply stream broke off",
        String(error),
      );
    }
  }

  /** Reads the whole reply. */
  async text(): Promise<SimpleReply> {
    const reply: SimpleReply = { messageId: null, text: "", citations: [] };
    for await (const event of this) {
      if (event.type === "token") reply.text += event.content;
      else if (event.type === "citation") reply.citations.push(event.citation);
      else if (event.type === "done") reply.citations = event.citations;
      else if (event.type === "error") {
        reply.error = { code: event.code, message: event.error };
      }
    }
    reply.messageId = this.#messageId;
    return reply;
  }

  /** Stops generating (the reply ends "aborted", its partial text kept) and closes the stream. */
  async stop() {
    const id = this.#messageId ?? await this.#findReply();
    const stopped = id ? await this.#stopReply(id) : null;
    this.#abort.abort();
    return stopped;
  }

  /** Closes the connection only: the reply goes on and is saved (resume it later). */
  abort() {
    this.#abort.abort();
  }
}
