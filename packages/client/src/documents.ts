// Documents and knowledge search (function `documents`): CRUD, multipart upload with
// progress, waiting for ingestion, hybrid search.
import {
  type Api,
  type BodyOf,
  data,
  type QueryOf,
  type ResponseOf,
} from "./api.ts";
import { AideError } from "./errors.ts";
import type { Transport } from "./http.ts";
import { postForm, type UploadProgress } from "./upload.ts";

export type Document = ResponseOf<"/documents/{id}", "get">;
type DocumentKind = NonNullable<BodyOf<"/documents", "post">["kind"]>;

export interface UploadOptions {
  /** Defaults to the file's name. */
  title?: string;
  kind?: DocumentKind;
  visibility?: "private" | "shared";
  /** The file name to send when `file` is a Blob without one. */
  filename?: string;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Called with each status seen ("pending", "processing", ...), for live status in a UI. */
  onStatus?: (status: string) => void;
  signal?: AbortSignal;
}

/** Search filters; arrays are sent as the comma-separated lists the API takes. */
export type SearchQuery =
  & Omit<QueryOf<"/documents/search", "get">, "kinds" | "sources" | "documents">
  & {
    kinds?: DocumentKind[];
    sources?: string[];
    documents?: string[];
  };

export function documentsResource(api: Api, transport: Transport) {
  const get = (id: string) =>
    data(api.GET("/documents/{id}", { params: { path: { id } } }));

  return {
    list: (query: QueryOf<"/documents", "get"> = {}) =>
      data(api.GET("/documents", { params: { query } })),
    /** A text or markdown document. */
    create: (body: BodyOf<"/documents", "post">) =>
      data(api.POST("/documents", { body })),
    get,
    update: (id: string, body: BodyOf<"/documents/{id}", "patch">) =>
      data(api.PATCH("/documents/{id}", { params: { path: { id } }, body })),
    delete: async (id: string) => {
      await api.DELETE("/documents/{id}", { params: { path: { id } } });
    },

    /** Uploads a .txt, .md or .pdf file (multipart), reporting progress as it goes. */
    async upload(
      file: Blob,
      options: UploadOptions = {},
    ): Promise<ResponseOf<"/documents", "post">> {
      const form = new FormData();
      const filename = options.filename ?? (file as File).name ?? "upload";
      form.append("file", file, filename);
      if (options.title) form.append("title", options.title);
      if (options.kind) form.append("kind", options.kind);
      if (options.visibility) form.append("visibility", options.visibility);
      const response = await postForm(
        transport,
        `${transport.functionsUrl}/documents`,
        form,
        options,
      );
      return await response.json();
    },

    /** Polls until ingestion ends: resolves with the ready document, throws if it failed. */
    async waitUntilReady(id: string, options: WaitOptions = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 60_000);
      for (;;) {
        const doc = await get(id) as { status: string; error?: unknown };
        options.onStatus?.(doc.status);
        if (doc.status === "ready") return doc as Document;
        if (doc.status === "error") {
          throw new AideError(
            422,
            "ingestion_failed",
            "The document could not be ingested",
            doc.error,
          );
        }
        if (Date.now() > deadline) {
          throw new AideError(
            0,
            "timeout",
            `Document ${id} was still ${doc.status}`,
          );
        }
        await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
        if (options.signal?.aborted) {
          throw new AideError(0, "aborted", "Stopped waiting");
        }
      }
    },
  };
}

export function searchFunction(api: Api) {
  const list = (values?: string[]) =>
    values?.length ? values.join(",") : undefined;
  /** Hybrid (vector + full-text) search over everything the caller may read. */
  return (query: SearchQuery) =>
    data(api.GET("/documents/search", {
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
