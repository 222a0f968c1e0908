import type { paths } from "./generated/openapi.ts";
import type { Transport } from "./http.ts";
export type Api = ReturnType<typeof createApi>;
export declare function createApi(transport: Transport): import("openapi-fetch").Client<paths, `${string}/${string}`>;
/**
 * The data of a successful call. The transport has already thrown an AideError for any
 * failure, so `data` is there (undefined only for 204 answers).
 */
export declare function data<T>(call: Promise<{
    data?: T;
}>): Promise<T>;
/** The JSON body of operation `P` `M` for status 200 or 201, as the OpenAPI document declares it. */
export type ResponseOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
    responses: infer R;
} ? R extends {
    200: {
        content: {
            "application/json": infer B;
        };
    };
} ? B : R extends {
    201: {
        content: {
            "application/json": infer B;
        };
    };
} ? B : unknown : never;
/** The JSON request body of operation `P` `M`. */
export type BodyOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
    requestBody?: {
        content: {
            "application/json": infer B;
        };
    };
} ? B : never;
/** The query parameters of operation `P` `M`. */
export type QueryOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
    parameters: {
        query?: infer Q;
    };
} ? NonNullable<Q> : never;
//# sourceMappingURL=api.d.ts.map