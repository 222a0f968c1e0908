// GET /functions/v1/openapi: the API's OpenAPI 3.1 document, generated from the routes' own
// zod schemas by `npm run openapi` (supabase/functions/openapi/generate.ts).
import document from "./openapi.json" with { type: "json" };

Deno.serve((req) => {
  if (req.method === "OPTIONS") {
    return new Response(null, {
      status: 204,
      headers: {
        "access-control-allow-origin": "*",
        "access-control-allow-headers": "authorization, apikey",
      },
    });
  }
  if (req.method !== "GET") {
    return Response.json({ error: { code: "method_not_allowed", message: "Use GET" } }, {
      status: 405,
    });
  }
  return Response.json(document, { headers: { "access-control-allow-origin": "*" } });
});
