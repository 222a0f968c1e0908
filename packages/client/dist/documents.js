// Documents and knowledge search (function `documents`): CRUD, multipart upload with
// progress, waiting for ingestion, hybrid search.
import { data } from "./api.js";
import { AideError } from "./errors.js";
import { progressFetch } from "./upload.js";
export function documentsResource(api, transport) {
    const get = (id) => data(api.GET("/documents/{id}", { params: { path: { id } } }));
    return {
        list: (query = {}) => data(api.GET("/documents", { params: { query } })),
        /** A text or markdown document. */
        create: (body) => data(api.POST("/documents", { body })),
        get,
        update: (id, body) => data(api.PATCH("/documents/{id}", { params: { path: { id } }, body })),
        delete: async (id) => {
            await api.DELETE("/documents/{id}", { params: { path: { id } } });
        },
        /** Uploads a .txt, .md or .pdf file (multipart), reporting progress as it goes. */
        async upload(file, options = {}) {
            const form = new FormData();
            const filename = options.filename ?? file.name ?? "upload";
            form.append("file", file, filename);
            if (options.title)
                form.append("title", options.title);
            if (options.kind)
                form.append("kind", options.kind);
            if (options.visibility)
                form.append("visibility", options.visibility);
            const body = new Request("http://multipart.invalid", { method: "POST", body: form });
            const init = {
                method: "POST",
                headers: { "content-type": body.headers.get("content-type") },
                body: await body.blob(),
                signal: options.signal,
            };
            const via = options.onProgress ? progressFetch(options.onProgress) : undefined;
            const response = await transport.fetch(`${transport.functionsUrl}/documents`, init, via);
            return await response.json();
        },
        /** Polls until ingestion ends: resolves with the ready document, throws if it failed. */
        async waitUntilReady(id, options = {}) {
            const deadline = Date.now() + (options.timeoutMs ?? 60_000);
            for (;;) {
                const doc = await get(id);
                options.onStatus?.(doc.status);
                if (doc.status === "ready")
                    return doc;
                if (doc.status === "error") {
                    throw new AideError(422, "ingestion_failed", "The document could not be ingested", doc.error);
                }
                if (Date.now() > deadline) {
                    throw new AideError(0, "timeout", `Document ${id} was still ${doc.status}`);
                }
                await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
                if (options.signal?.aborted)
                    throw new AideError(0, "aborted", "Stopped waiting");
            }
        },
    };
}
export function searchFunction(api) {
    const list = (values) => values?.length ? values.join(",") : undefined;
    /** Hybrid (vector + full-text) search over everything the caller may read. */
    return (query) => data(api.GET("/documents/search", {
        params: {
            query: {
                ...query,
                kinds: list(query.kinds),
                sources: list(query.sources),
                documents: list(query.documents),
            },
        },
    }));
}
//# sourceMappingURL=documents.js.map