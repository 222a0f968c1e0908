// Multipart upload with progress. Browsers report upload progress only through
// XMLHttpRequest, so there the request goes through XHR; Node and Deno stream the body to fetch
// and count the bytes as the network takes them.
/** A fetch that reports the request body's progress to `onProgress`. */
export function progressFetch(onProgress) {
    return typeof XMLHttpRequest === "function" ? xhrFetch(onProgress) : streamingFetch(onProgress);
}
function xhrFetch(onProgress) {
    return async (request) => {
        const body = await request.blob();
        return await new Promise((resolve, reject) => {
            const xhr = new XMLHttpRequest();
            xhr.open(request.method, request.url);
            request.headers.forEach((value, name) => xhr.setRequestHeader(name, value));
            xhr.responseType = "blob";
            xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.total || body.size });
            xhr.onload = () => {
                const headers = new Headers();
                for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
                    const at = line.indexOf(":");
                    if (at > 0)
                        headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
                }
                resolve(new Response(xhr.response, { status: xhr.status, headers }));
            };
            xhr.onerror = () => reject(new TypeError("Network error during upload"));
            xhr.onabort = () => reject(new DOMException("The upload was aborted", "AbortError"));
            request.signal.addEventListener("abort", () => xhr.abort(), { once: true });
            xhr.send(body);
        });
    };
}
const CHUNK_BYTES = 64 * 1024;
function streamingFetch(onProgress) {
    return async (request) => {
        const body = new Uint8Array(await request.arrayBuffer());
        const total = body.byteLength;
        let loaded = 0;
        const stream = new ReadableStream({
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
//# sourceMappingURL=upload.js.map