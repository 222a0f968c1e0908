// The typed request layer: openapi-fetch over the generated `paths`, sending through our
// Transport (token, retries, AideError). Resource modules call `api.GET("/path", ...)` and get
// the response type the OpenAPI document declares.
import createClient from "openapi-fetch";
export function createApi(transport) {
    return createClient({
        baseUrl: transport.functionsUrl,
        fetch: (request) => transport.fetch(request),
    });
}
/**
 * The data of a successful call. The transport has already thrown an AideError for any
 * failure, so `data` is there (undefined only for 204 answers).
 */
export async function data(call) {
    return (await call).data;
}
//# sourceMappingURL=api.js.map