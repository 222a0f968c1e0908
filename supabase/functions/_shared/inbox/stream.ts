// POST /prompts with `Accept: text/event-stream`: the same work as a UI message stream (the
// AI SDK's protocol, pinned with the chat's): `start`, `data-prompt` once routed, transient
// `data-progress` as parts are summarized, text parts for a chat reply, the result as one
// `data-<intent>` part (the JSON the non-streaming call answers), `finish`, `[DONE]`. An
// `error` chunk ends a failed run. Closing the connection does not stop the work.
import type { UIMessageChunk } from "ai";
import { SSE_PING, sseData } from "../stream/sse.ts";
import { UI_STREAM_HEADERS } from "../stream/ui_message_stream.ts";

export { UI_STREAM_HEADERS };

const KEEP_ALIVE_MS = 15_000;

/** A queue of chunks the run pushes and the response body pulls. */
export class ChunkStream {
  #chunks: UIMessageChunk[] = [];
  #closed = false;
  #wake: (() => void) | null = null;

  push(chunk: UIMessageChunk): void {
    if (this.#closed) return;
    this.#chunks.push(chunk);
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  body(): ReadableStream<Uint8Array> {
    const bytes = new TextEncoder();
    let timer: ReturnType<typeof setInterval> | undefined;
    let ended = false;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        timer = setInterval(
          () => !ended && controller.enqueue(bytes.encode(SSE_PING)),
          KEEP_ALIVE_MS,
        );
      },
      pull: async (controller) => {
        while (this.#chunks.length === 0 && !this.#closed) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          this.#wake = null;
        }
        const frames = this.#chunks.splice(0).map(sseData).join("");
        if (frames) controller.enqueue(bytes.encode(frames));
        if (this.#closed && this.#chunks.length === 0) {
          ended = true;
          clearInterval(timer);
          controller.enqueue(bytes.encode("data: [DONE]\n\n"));
          controller.close();
        }
      },
      cancel: () => {
        ended = true;
        clearInterval(timer);
      },
    });
  }
}
