export interface UploadProgress {
    /** Bytes sent so far. */
    loaded: number;
    /** Bytes in the whole request body. */
    total: number;
}
export type ProgressFetch = (request: Request) => Promise<Response>;
/** A fetch that reports the request body's progress to `onProgress`. */
export declare function progressFetch(onProgress: (p: UploadProgress) => void): ProgressFetch;
//# sourceMappingURL=upload.d.ts.map