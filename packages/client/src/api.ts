// The typed request layer: openapi-fetch over the generated `paths`, sending through our
// Transport (token, retries, AideError). Resource modules call `api.GET("/path", ...)` and get
// the response type the OpenAPI document declares.
import createClient from "openapi-fetch";
import type { paths } from "./generated/openapi.ts";
import type { Transport } from "./http.ts";

export type Api = ReturnType<typeof createApi>;

export function createApi(transport: Transport) {
  return createClient<paths>({
    baseUrl: transport.functionsUrl,
    fetch: (request: Request) => transport.fetch(request),
  });
}

/**
 * The data of a successful call. The transport has already thrown an AideError for any
 * failure, so `data` is there (undefined only for 204 answers).
 */
export async function data<T>(call: Promise<{ data?: T }>): Promise<T> {
  return (await call).data as T;
}

/** The JSON body of operation `P` `M` for status 200 or 201, as the OpenAPI document declares it. */
export type ResponseOf<P extends keyof paths, M extends keyof paths[P]> =
  paths[P][M] extends {
    responses: infer R;
  } ? R extends { 200: { content: { "application/json": infer B } } } ? B
    : R extends { 201: { content: { "application/json": infer B } } } ? B
    : unknown
    : never;

/** The JSON request body of operation `P` `M`. */
export type BodyOf<P extends keyof paths, M extends keyof paths[P]> =
  paths[P][M] extends {
    requestBody?: { content: { "application/json": infer B } };
  } ? B
    : never;

/** The query parameters of operation `P` `M`. */
export type QueryOf<P extends keyof paths, M extends keyof paths[P]> =
  paths[P][M] extends {
    parameters: { query?: infer Q };
  } ? NonNullable<Q>
    : never;
