// Function `push`: the signed-in user's Web Push subscriptions (one per browser).
//   GET    /push/config              the VAPID public key, for PushManager.subscribe()
//   POST   /push/subscriptions       save PushSubscription.toJSON() (moved if the endpoint exists)
//   DELETE /push/subscriptions/{id}  forget one
// The endpoint must be a push service's (push.ts: pushEndpointAllowed): the reminder tick posts
// to it, so it may not point anywhere else.
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { ApiError } from "../_shared/http.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, jsonBody, route, uuidParams } from "../_shared/openapi.ts";
import { pushEndpointAllowed, vapidConfig } from "../_shared/reminders/push.ts";
import { deleteSubscription, saveSubscription } from "../_shared/reminders/subscriptions.ts";

export const app = createApp<AuthedEnv>("push");
app.use("*", requireUser);
app.use("*", limitWrites());

const base64url = (bytes: number) =>
  z.string().regex(
    new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}={0,2}$`),
    `base64url of ${bytes} bytes`,
  );

const Subscribe = z.strictObject({
  endpoint: z.url().max(2048).refine(
    (u) => pushEndpointAllowed(u),
    "must be a Web Push service's endpoint (https)",
  ),
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({ p256dh: base64url(65), auth: base64url(16) }),
  user_agent: z.string().max(512).optional(),
}).openapi("PushSubscribe");

const Subscription = z.object({
  id: z.uuid(),
  endpoint: z.string(),
  user_agent: z.string().nullable(),
  created_at: z.string(),
  last_used_at: z.string(),
}).openapi("PushSubscription");

const PushConfig = z.object({ vapid_public_key: z.string() }).openapi("PushConfig");

const configRoute = route({
  method: "get",
  path: "/config",
  summary: "The VAPID public key for PushManager.subscribe()",
  auth: "user",
  responses: { 200: json(PushConfig, "The key") },
  errors: { 503: "Web Push is not configured" },
});
app.openapi(configRoute, (c) => {
  const cfg = vapidConfig();
  if (!cfg) throw new ApiError(503, "not_configured", "Web Push is not configured (VAPID keys)");
  return c.json({ vapid_public_key: cfg.publicKey }, 200);
});

const subscribeRoute = route({
  method: "post",
  path: "/subscriptions",
  summary: "Save this browser's push subscription (PushSubscription.toJSON())",
  auth: "user",
  request: { body: jsonBody(Subscribe) },
  responses: { 201: json(Subscription, "Saved") },
  errors: { 400: "Invalid subscription", 429: "Rate limited" },
});
app.openapi(subscribeRoute, async (c) => {
  const body = c.req.valid("json");
  const userAgent = body.user_agent ?? c.req.header("user-agent")?.slice(0, 512) ?? null;
  const saved = await saveSubscription(c.get("user").claims, {
    ...body.keys,
    endpoint: body.endpoint,
    userAgent,
  });
  return c.json(saved, 201);
});

const deleteRoute = route({
  method: "delete",
  path: "/subscriptions/{id}",
  summary: "Forget a push subscription",
  auth: "user",
  request: { params: uuidParams("id") },
  responses: { 204: { description: "Deleted" } },
  errors: { 400: "Invalid id", 404: "No such subscription" },
});
app.openapi(deleteRoute, async (c) => {
  if (!(await deleteSubscription(c.get("user").claims, c.req.valid("param").id))) {
    throw new ApiError(404, "not_found", "No such subscription");
  }
  return c.body(null, 204);
});
