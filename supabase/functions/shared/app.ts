// Share links, read without signing in: GET /shared/:token answers the read-only copy a user
// made with POST /conversations/:id/share. The token is the only proof, so the platform's JWT
// check is off for this function (supabase/config.toml). See README "Feedback, export and share
// links".
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { limitByClient } from "../_shared/limits.ts";
import { json, route } from "../_shared/openapi.ts";
import { readShare } from "../_shared/chat/shares.ts";
import { SharedConversation } from "../_shared/chat/schemas.ts";

export const app = createApp("shared");
// Before the token is looked at: guessing tokens is what this limit is for.
app.use("*", limitByClient("shared"));

app.openapi(
  route({
    method: "get",
    path: "/{token}",
    summary: "A shared conversation (no sign-in: the token is the proof)",
    auth: "public",
    request: { params: z.strictObject({ token: z.string().max(100) }) },
    responses: { 200: json(SharedConversation, "The conversation as it was when shared") },
    errors: {
      400: "Bad token",
      404: "Unknown or revoked share",
      429: "Too many requests from this address (rate_limited, Retry-After)",
    },
  }),
  async (c) => {
    const shared = await readShare(c.req.valid("param").token);
    c.header("cache-control", "private, no-store");
    return c.json(shared, 200);
  },
);
