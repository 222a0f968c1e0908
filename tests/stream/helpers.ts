/** Shared helpers for the stream encoder tests. */
import type { ChatStreamEvent } from "../../supabase/functions/_shared/stream/events.ts";

export async function* fromArray(events: ChatStreamEvent[]): AsyncGenerator<ChatStreamEvent> {
  for (const event of events) yield event;
}

/** Reads a whole body as text. */
export function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

/** Splits an SSE body into its messages (each still ending in "\n\n"). */
export function frames(body: string): string[] {
  return body.split(/(?<=\n\n)/).filter((f) => f !== "");
}

/** The JSON payloads of the `data:` messages, without `[DONE]`. */
export function payloads(body: string): Record<string, unknown>[] {
  return frames(body)
    .filter((f) => f.startsWith("data: ") && f !== "data: [DONE]\n\n")
    .map((f) => JSON.parse(f.slice("data: ".length)));
}

/**
 * A source driven by the test: `push` an event, `end` it, and see whether the consumer called
 * `return()`. `next()` stays pending while nothing was pushed, like an orchestrator waiting for
 * the model.
 */
export function manualSource() {
  const queue: IteratorResult<ChatStreamEvent>[] = [];
  const waiting: ((r: IteratorResult<ChatStreamEvent>) => void)[] = [];
  const state = { returnCalls: 0 };
  const deliver = (r: IteratorResult<ChatStreamEvent>) => {
    const resolve = waiting.shift();
    if (resolve) resolve(r);
    else queue.push(r);
  };
  const iterator: AsyncIterator<ChatStreamEvent> = {
    next: () => {
      const r = queue.shift();
      return r ? Promise.resolve(r) : new Promise((resolve) => waiting.push(resolve));
    },
    return: () => {
      state.returnCalls++;
      // Like a fan-out subscriber: unsubscribing settles a pending next().
      const done = { done: true as const, value: undefined };
      while (waiting.length > 0) waiting.shift()!(done);
      return Promise.resolve(done);
    },
  };
  return {
    source: { [Symbol.asyncIterator]: () => iterator } as AsyncIterable<ChatStreamEvent>,
    state,
    push: (event: ChatStreamEvent) => deliver({ done: false, value: event }),
    end: () => deliver({ done: true, value: undefined }),
  };
}

export const tick = (ms = 0) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Deno.test with the op and resource sanitizers on (this Deno has them off by default): a ping
 * timer left armed after a stream ends fails the test.
 */
export function test(name: string, fn: () => Promise<void> | void): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}
