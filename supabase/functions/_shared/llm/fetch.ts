// The fetch the SDK clients use: the platform's, with the response body read in small pieces.
//
// A fetch response body hands its reader a new 64 KiB buffer for every read, however few bytes
// arrived, and a streamed reply arrives a token (~100 bytes) at a time. Each chunk then pins its
// 64 KiB until the SDK has parsed it and the garbage collector has run: with 200 replies
// streaming, 359 of them (23 MB, most of the JavaScript memory the replies held) in a heap
// snapshot, and a stream of large allocations for the collector (docs/BENCHMARKS.md, Profile).
// Reading into one reused buffer and passing on right-sized copies keeps a reply's body to one
// buffer.

const READ_BUFFER_BYTES = 16 * 1024;

export const providerFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const streamed = response.headers.get("content-type")?.startsWith("text/event-stream");
  if (!response.body || !streamed) return response; // a JSON answer is read whole at once
  return new Response(compact(response.body, init?.signal), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
};

/**
 * The same bytes, read into one reused buffer and passed on as right-sized copies. An abort
 * (a stop request, a timeout) ends it at once, as it ends the body it reads.
 */
export function compact(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal | null,
): ReadableStream<Uint8Array> {
  const reader = body.getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(READ_BUFFER_BYTES);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      signal?.addEventListener("abort", () => {
        controller.error(signal.reason);
        reader.cancel(signal.reason).catch(() => {});
      }, { once: true });
    },
    async pull(controller) {
      const { value, done } = await reader.read(new Uint8Array(buffer));
      if (done || !value) return controller.close();
      controller.enqueue(value.slice());
      buffer = value.buffer; // handed back by the read: used again for the next one
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
