// Function `push`: the signed-in user's Web Push subscriptions (one per browser).
//   GET    /push/config              the VAPID public key, for PushManager.subscribe()
//   POST   /push/subscriptions       save PushSubscription.toJSON() (moved if the endpoint exists)
//   DELETE /push/subscriptions/:id   forget one
// The endpoint must be a push service's (push.ts: pushEndpointAllowed): the reminder tick posts
// to it, so it may not point anywhere else.
import { z } from "zod";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { ApiError, createApp } from "../_shared/http.ts";
import { limitWrites } from "../_shared/limits.ts";
import type { Operation } from "../_shared/openapi.ts";
import { jsonBody, uuidParam } from "../_shared/validate.ts";
import { pushEndpointAllowed, vapidConfig } from "../_shared/reminders/push.ts";

const app = createApp<AuthedEnv>("push");
app.use("*", requireUser);
app.use("*", limitWrites());

const base64url = (bytes: number) => {
  const chars = Math.ceil((bytes * 4) / 3);
  return z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${chars}}={0,2}$`), `base64url of ${bytes} bytes`);
};

const Subscribe = z.strictObject({
  endpoint: z.url().max(2048).refine((u) => pushEndpointAllowed(u), "must be a Web Push service's endpoint (https)"),
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({ p256dh: base64url(65), auth: base64url(16) }),
  user_agent: z.string().max(512).optional(),
});

// deno-lint-ignore no-explicit-any
const subscriptionJson = (s: Record<string, any>) => ({
  id: s.id,
  endpoint: s.endpoint,
  user_agent: s.user_agent,
  created_at: s.created_at,
  last_used_at: s.last_used_at,
});

app.get("/config", (c) => {
  const cfg = vapidConfig();
  if (!cfg) throw new ApiError(503, "not_configured", "Web Push is not configured (VAPID keys)");
  return c.json({ vapid_public_key: cfg.publicKey });
});

app.post("/subscriptions", async (c) => {
  const body = await jsonBody(c, Subscribe);
  const [row] = await asUser(c.get("user").claims, (tx) => tx`
    select * from private.save_push_subscription(${body.endpoint}, ${body.keys.p256dh}, ${body.keys.auth},
                                                 ${body.user_agent ?? c.req.header("user-agent")?.slice(0, 512) ?? null})`);
  return c.json(subscriptionJson(row), 201);
});

app.delete("/subscriptions/:id", async (c) => {
  const id = uuidParam(c, "id");
  const rows = await asUser(c.get("user").claims, (tx) => tx`
    delete from public.push_subscriptions where id = ${id} and user_id = auth.uid() returning id`);
  if (rows.length === 0) throw new ApiError(404, "not_found", "No such subscription");
  return c.body(null, 204);
});

/** This function's operations, for the OpenAPI document (npm run openapi). */
export const operations: Operation[] = [
  { method: "GET", path: "/config", summary: "The VAPID public key for PushManager.subscribe()", auth: "user", responses: { 200: "The key", 503: "Web Push not configured" } },
  {
    method: "POST",
    path: "/subscriptions",
    summary: "Save this browser's push subscription (PushSubscription.toJSON())",
    auth: "user",
    body: Subscribe,
    responses: { 201: "Saved", 400: "Invalid subscription", 429: "Rate limited" },
  },
  {
    method: "DELETE",
    path: "/subscriptions/:id",
    summary: "Forget a push subscription",
    auth: "user",
    responses: { 204: "Deleted", 404: "No such subscription" },
  },
];

export { app };
Deno.serve(app.fetch);
