import { type Api, type BodyOf, type QueryOf, type ResponseOf } from "./api.ts";
import type { Transport } from "./http.ts";
import { type UploadProgress } from "./upload.ts";
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
export type SearchQuery = Omit<QueryOf<"/documents/search", "get">, "kinds" | "sources" | "documents"> & {
    kinds?: DocumentKind[];
    sources?: string[];
    documents?: string[];
};
export declare function documentsResource(api: Api, transport: Transport): {
    list: (query?: QueryOf<"/documents", "get">) => Promise<unknown>;
    /** A text or markdown document. */
    create: (body: BodyOf<"/documents", "post">) => Promise<unknown>;
    get: (id: string) => Promise<unknown>;
    update: (id: string, body: BodyOf<"/documents/{id}", "patch">) => Promise<unknown>;
    delete: (id: string) => Promise<void>;
    /** Uploads a .txt, .md or .pdf file (multipart), reporting progress as it goes. */
    upload(file: Blob, options?: UploadOptions): Promise<ResponseOf<"/documents", "post">>;
    /** Polls until ingestion ends: resolves with the ready document, throws if it failed. */
    waitUntilReady(id: string, options?: WaitOptions): Promise<unknown>;
};
export declare function searchFunction(api: Api): (query: SearchQuery) => Promise<unknown>;
export {};
//# sourceMappingURL=documents.d.ts.map