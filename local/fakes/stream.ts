/**
 * Timing and streaming plumbing shared by both fake providers: pacing, waits
 * that end when the client leaves or the server closes, mid-stream faults, and
 * SSE responses.
 *
 * A client leaving is noticed through the response body's `cancel`, so only
 * once the headers are out. Before that (delay_ms, non-streaming generation
 * time and stalls) waits run to their end: Deno 2.9's `req.signal` misses
 * disconnects of requests larger than a few hundred bytes, and reading it
 * makes Deno print a legacy-abort warning.
 */
import type { LogEntry, Script } from "./script.ts";

/** One provider request in flight. */
export interface Exchange {
  script: Script;
  entry: LogEntry;
  /** Aborts when the client goes away (while streaming) or the server closes. */
  signal: AbortSignal;
  clientGone(): void;
}

export function beginExchange(script: Script, entry: LogEntry, closing: AbortSignal): Exchange {
  const client = new AbortController();
  return {
    script,
    entry,
    signal: AbortSignal.any([client.signal, closing]),
    clientGone() {
      entry.client_closed = true;
      client.abort(new DOMException("client went away", "AbortError"));
    },
  };
}

/** Thrown inside a response stream to cut the connection without its terminating chunk. */
export class DroppedConnection extends Error {
  constructor() {
    super("fake: connection dropped on purpose");
    this.name = "DroppedConnection";
  }
}

/** Resolves after `ms`; rejects with the abort reason as soon as `signal` aborts. Never leaks the timer. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Never resolves; rejects when `signal` aborts (a mid-stream stall). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** Non-streaming stalls give up after this long, so sockets do not pile up in a long-running stack. */
export const STALL_LIMIT_MS = 10 * 60_000;

/** Status recorded when the server closed before answering; nobody receives it. */
export const CLOSED_STATUS = 499;

/** Waits before sending the response headers. Returns false if the server is closing meanwhile. */
export async function holdHeaders(x: Exchange, ms: number): Promise<boolean> {
  if (ms <= 0) return true;
  try {
    await sleep(ms, x.signal);
    return true;
  } catch {
    return false;
  }
}

/** Paces tokens: `ttft_ms` before the first, then 1/`tokens_per_sec` between the others. */
export class Pacer {
  #started = false;
  #script: Script;
  #signal: AbortSignal;

  constructor(x: Exchange) {
    this.#script = x.script;
    this.#signal = x.signal;
  }

  async next(): Promise<void> {
    const tps = this.#script.tokens_per_sec ?? 0;
    const ms = this.#started ? (tps > 0 ? 1000 / tps : 0) : (this.#script.ttft_ms ?? 0);
    this.#started = true;
    if (ms > 0) await sleep(ms, this.#signal);
  }
}

/** Time a non-streaming reply of `tokens` tokens takes to generate under the script's pacing. */
export function generationMs(script: Script, tokens: number): number {
  const tps = script.tokens_per_sec ?? 0;
  return (script.ttft_ms ?? 0) + (tps > 0 ? Math.max(0, tokens - 1) * 1000 / tps : 0);
}

export interface Fault {
  kind: "error" | "drop" | "stall";
  /** Fires before text token `at` (0-based); `at` = number of text tokens means after the text. */
  at: number;
}

/** The earliest of the script's mid-stream faults, if any. */
export function plannedFault(script: Script, textTokens: number): Fault | null {
  const faults: [Fault["kind"], number | undefined][] = [
    ["error", script.error_after_tokens],
    ["drop", script.drop_after_tokens],
    ["stall", script.stall_after_tokens],
  ];
  let first: Fault | null = null;
  for (const [kind, n] of faults) {
    if (typeof n === "number" && (first === null || n < first.at)) first = { kind, at: n };
  }
  return first && { kind: first.kind, at: Math.min(first.at, textTokens) };
}

/** Acts out a mid-stream fault: send the provider's error event, cut the connection, or hang. */
export async function* fireFault(x: Exchange, fault: Fault, errorEvent: string) {
  if (fault.kind === "error") yield errorEvent;
  else if (fault.kind === "drop") throw new DroppedConnection();
  else await untilAborted(x.signal);
}

/** A `text/event-stream` response fed by `events`, one pull per event. */
export function sseResponse(
  x: Exchange,
  events: AsyncGenerator<string>,
  headers: Record<string, string>,
): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await events.next();
        if (x.signal.aborted) throw x.signal.reason;
        if (done) controller.close();
        else controller.enqueue(encoder.encode(value));
      } catch (err) {
        // Erroring the body makes Deno close the connection without the final chunk,
        // so the client sees a broken stream (a no-op if the client already left).
        controller.error(err);
      }
    },
    cancel() {
      x.clientGone();
    },
  });
  return new Response(body, {
    headers: {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
    },
  });
}

export function sseEvent(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;
}

/** An event whose data is JSON cut off mid-object (`malformed_after_tokens`). */
export function malformedEvent(event?: string): string {
  return `${event ? `event: ${event}\n` : ""}data: {"delta": {"text": "cut off here\n\n`;
}

/** Where `malformed_after_tokens` puts the malformed event: before text token `at` (0-based). */
export function malformedAt(script: Script, textTokens: number): number | null {
  const n = script.malformed_after_tokens;
  return typeof n === "number" ? Math.min(Math.max(n, 0), textTokens) : null;
}

/** A 200 whose JSON body is cut off: the non-streaming version of a malformed event. */
export function malformedResponse(headers: Record<string, string>): Response {
  return new Response('{"id": "cut-off", "content": [', {
    headers: { ...headers, "content-type": "application/json" },
  });
}

/** A 200 whose body breaks at once: the non-streaming version of a dropped connection. */
export function droppedResponse(headers: Record<string, string>): Response {
  const body = new ReadableStream({
    start(controller) {
      controller.error(new DroppedConnection());
    },
  });
  return new Response(body, { headers: { ...headers, "content-type": "application/json" } });
}
