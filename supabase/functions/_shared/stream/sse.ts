// Shared Server-Sent Events plumbing: framing, keep-alive pings and the pull loop that turns
// an event source into a response body. Protocol specifics live in the encoders.
import { type ChatStreamEvent, isTerminal } from "./events.ts";

/** One SSE message carrying `value` as JSON. */
export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** An SSE comment: every client ignores it, but it keeps proxies from dropping an idle line. */
export const SSE_PING = ": ping\n\n";

/** Under the ~30-60 s idle timeouts common in proxies and load balancers. */
export const DEFAULT_KEEP_ALIVE_MS = 15_000;

/** What a protocol contributes: frames per event, and frames once the stream ends. */
export interface FrameEncoder {
  event(event: ChatStreamEvent): string[];
  /** After a terminal event or when the source runs dry. Not called when the client cancels. */
  end(): string[];
}

export interface SseStreamOptions {
  /** Ping interval while no event is written; 0 disables. Default DEFAULT_KEEP_ALIVE_MS. */
  keepAliveMs?: number;
  /** Called when the source throws; the client gets a generic `internal` error event. */
  onError?: (error: unknown) => void;
}

/** Sent in place of whatever the source threw: internals are not for the client. */
const SOURCE_FAILED: ChatStreamEvent = {
  type: "error",
  code: "internal",
  message: "Internal error",
};

/**
 * Pulls `source` one event at a time (so backpressure reaches it) and writes each event's
 * frames as one chunk. Stops reading after a terminal event. Cancelling the stream (a client
 * disconnect) calls the source iterator's `return()` and nothing else: stopping generation
 * is not the encoder's call.
 */
export function toSseStream(
  source: AsyncIterable<ChatStreamEvent>,
  encoder: FrameEncoder,
  options: SseStreamOptions = {},
): ReadableStream<Uint8Array> {
  const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
  const bytes = new TextEncoder();
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const stopTimer = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  // Pings go out only after keepAliveMs without a write. Writes just note their time (re-arming
  // a timer on every chunk cost half of the encoder's CPU); the timer checks when it fires.
  let lastWrite = Date.now();
  const armTimer = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (finished || keepAliveMs <= 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (finished) return;
      if (Date.now() - lastWrite >= keepAliveMs) {
        // Skip when the client is not reading: a queue of pings helps no one.
        if ((controller.desiredSize ?? 0) > 0) controller.enqueue(bytes.encode(SSE_PING));
        lastWrite = Date.now();
      }
      armTimer(controller);
    }, Math.max(0, keepAliveMs - (Date.now() - lastWrite)));
  };
  const write = (controller: ReadableStreamDefaultController<Uint8Array>, frames: string[]) => {
    if (frames.length === 0) return false;
    controller.enqueue(bytes.encode(frames.length === 1 ? frames[0] : frames.join("")));
    lastWrite = Date.now();
    return true;
  };
  const close = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    finished = true;
    stopTimer();
    const frames = encoder.end();
    if (frames.length > 0) controller.enqueue(bytes.encode(frames.join("")));
    controller.close();
  };
  // A generator source may be mid-`next()`; its return() then waits for that, so never await
  // it (a cancel must not hang) and never let its rejection go unhandled.
  const release = () => {
    try {
      Promise.resolve(iterator.return?.()).catch(() => {});
    } catch {
      // a throwing return() is the source's problem, not the client's
    }
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      armTimer(controller);
    },
    async pull(controller) {
      // Loop until something is written: events that map to no frames must not stall the pull.
      while (!finished) {
        try {
          const result = await iterator.next();
          if (finished) return; // cancelled meanwhile
          if (result.done) return close(controller);
          const wrote = write(controller, encoder.event(result.value));
          if (isTerminal(result.value)) {
            release();
            return close(controller);
          }
          if (wrote) return;
        } catch (error) {
          // The source threw, or an event would not serialize (e.g. a BigInt in a tool output).
          if (finished) return;
          options.onError?.(error);
          release();
          write(controller, encoder.event(SOURCE_FAILED));
          return close(controller);
        }
      }
    },
    cancel() {
      finished = true;
      stopTimer();
      release();
    },
  });
}
