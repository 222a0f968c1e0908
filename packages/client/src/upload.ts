// Multipart upload with progress. Browsers report upload progress only through
// XMLHttpRequest, so there the request goes through XHR; Node and Deno stream the body to fetch
// and count the bytes as the network takes them.

import type { Transport } from "./http.ts";

export interface UploadProgress {
  /** Bytes sent so far. */
  loaded: number;
  /** Bytes in the whole request body. */
  total: number;
}

export type ProgressFetch = (request: Request) => Promise<Response>;

/** POSTs a multipart form through the transport, reporting progress when asked. */
export async function postForm(
  transport: Transport,
  url: string,
  form: FormData,
  options: { onProgress?: (p: UploadProgress) => void; signal?: AbortSignal } =
    {},
): Promise<Response> {
  const body = new Request("http://multipart.invalid", {
    method: "POST",
    body: form,
  });
  const init: RequestInit = {
    method: "POST",
    headers: { "content-type": body.headers.get("content-type")! },
    body: await body.blob(),
    signal: options.signal,
  };
  const via = options.onProgress
    ? progressFetch(options.onProgress)
    : undefined;
  return await transport.fetch(url, init, via);
}

/** The members of XMLHttpRequest used here (not in Node's or Deno's types). */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getAllResponseHeaders(): string;
  send(body: Blob): void;
  abort(): void;
  responseType: string;
  readonly status: number;
  readonly response: Blob;
  readonly upload: {
    onprogress: ((e: { loaded: number; total: number }) => void) | null;
  };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

const XHR = (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;

/** A fetch that reports the request body's progress to `onProgress`. */
export function progressFetch(
  onProgress: (p: UploadProgress) => void,
): ProgressFetch {
  return XHR ? xhrFetch(XHR, onProgress) : streamingFetch(onProgress);
}

function xhrFetch(
  Xhr: new () => Xhr,
  onProgress: (p: UploadProgress) => void,
): ProgressFetch {
  return async (request) => {
    const body = await request.blob();
    return await new Promise<Response>((resolve, reject) => {
      const xhr = new Xhr();
      xhr.open(request.method, request.url);
      request.headers.forEach((value, name) =>
        xhr.setRequestHeader(name, value)
      );
      xhr.responseType = "blob";
      xhr.upload.onprogress = (e) =>
        onProgress({ loaded: e.loaded, total: e.total || body.size });
      xhr.onload = () => {
        const headers = new Headers();
        for (
          const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)
        ) {
          const at = line.indexOf(":");
          if (at > 0) {
            headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
          }
        }
        resolve(new Response(xhr.response, { status: xhr.status, headers }));
      };
      xhr.onerror = () => reject(new TypeError("Network error during upload"));
      xhr.onabort = () =>
        reject(new DOMException("The upload was aborted", "AbortError"));
      request.signal.addEventListener("abort", () => xhr.abort(), {
        once: true,
      });
      xhr.send(body);
    });
  };
}

const CHUNK_BYTES = 64 * 1024;

function streamingFetch(
  onProgress: (p: UploadProgress) => void,
): ProgressFetch {
  return async (request) => {
    const body = new Uint8Array(await request.arrayBuffer());
    const total = body.byteLength;
    let loaded = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (loaded >= total) {
          controller.close();
          return;
        }
        const chunk = body.subarray(loaded, loaded + CHUNK_BYTES);
        controller.enqueue(chunk);
        loaded += chunk.byteLength;
        onProgress({ loaded, total });
      },
    });
    const headers = new Headers(request.headers);
    headers.set("content-length", String(total));
    return await fetch(request.url, {
      method: request.method,
      headers,
      body: stream,
      signal: request.signal,
      // @ts-ignore: `duplex` is required for a streamed body, and not in every RequestInit type
      duplex: "half",
    });
  };
}
