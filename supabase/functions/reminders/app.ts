// Function `reminders`: the escalation chain's endpoints that carry no user JWT.
//   POST /reminders/dispatch          the tick's batches (pg_net, Vault secret aide_webhook_secret)
//   POST /reminders/ack               a push notification's action (token from the payload)
//   POST /reminders/twilio/whatsapp   WhatsApp messages to our sender   } signed by Twilio
//   POST /reminders/twilio/voice      the reminder call's key press     } (X-Twilio-Signature
//   POST /reminders/twilio/status     message and call status callbacks } over the public URL)
// A Twilio request without a valid signature gets 403 and changes nothing.
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createApp } from "../_shared/app.ts";
import { ApiError } from "../_shared/http.ts";
import { json, jsonBody, route } from "../_shared/openapi.ts";
import { requireWebhookSecret } from "../_shared/secrets.ts";
import { verifyAck } from "../_shared/reminders/ack.ts";
import {
  pushAction,
  statusCallback,
  voiceGather,
  whatsappReply,
} from "../_shared/reminders/answers.ts";
import { dispatch } from "../_shared/reminders/dispatch.ts";
import { twiml } from "../_shared/reminders/twiml.ts";
import { verifiedTwilioForm } from "../_shared/reminders/webhook.ts";

export const app = createApp("reminders");

const DispatchRequest = z.strictObject({ ids: z.array(z.uuid()).min(1).max(500) });
const DispatchCounts = z.record(z.string(), z.number().int()).openapi("ReminderDispatchCounts");
const AckRequest = z.strictObject({
  dispatch_id: z.uuid(),
  token: z.string().regex(/^[0-9a-f]{64}$/),
  action: z.enum(["done", "snooze"]),
}).openapi("ReminderAck");
const AckResult = z.object({
  task_id: z.uuid(),
  action: z.enum(["done", "snooze"]),
  result: z.enum(["ok", "closed", "no_chain"]),
}).openapi("ReminderAckResult");

const dispatchRoute = route({
  middleware: [requireWebhookSecret],
  method: "post",
  path: "/dispatch",
  summary: "Send a batch of claimed reminder stages (called by the reminder tick through pg_net)",
  auth: "secret",
  request: { body: jsonBody(DispatchRequest) },
  responses: { 200: json(DispatchCounts, "How many sends ended in each status") },
  errors: { 401: "Missing or invalid webhook secret" },
});
app.openapi(dispatchRoute, async (c) => {
  return c.json(await dispatch(c.req.valid("json").ids), 200);
});

const ackRoute = route({
  method: "post",
  path: "/ack",
  summary: "A push notification's action (done, snooze), with the token from its payload",
  auth: "signature",
  request: { body: jsonBody(AckRequest) },
  responses: { 200: json(AckResult, "Applied (closed: the task was no longer open)") },
  errors: { 403: "The token does not match", 404: "No such reminder" },
});
app.openapi(ackRoute, async (c) => {
  const body = c.req.valid("json");
  if (!(await verifyAck(body.dispatch_id, body.token))) {
    throw new ApiError(403, "invalid_token", "The acknowledgement token does not match");
  }
  const result = await pushAction(body.dispatch_id, body.action);
  if (!result) throw new ApiError(404, "not_found", "No such reminder");
  return c.json(result, 200);
});

// Twilio's webhooks: the form is read raw (the signature covers its bytes), so no body schema.
const Dispatch = z.strictObject({ dispatch: z.uuid().optional() });
const twilioRoute = (path: string, summary: string) =>
  route({
    method: "post",
    path,
    summary,
    auth: "signature",
    request: { query: Dispatch },
    responses: { 200: { description: "TwiML", content: { "text/xml": { schema: z.string() } } } },
    errors: { 403: "Missing or invalid X-Twilio-Signature" },
  });

/** 403 (and nothing done) unless Twilio signed the request; the answer is TwiML. */
async function twilio(c: Context, handle: (form: URLSearchParams) => Promise<string>) {
  const form = await verifiedTwilioForm(c.req.raw);
  if (!form) throw new ApiError(403, "invalid_signature", "Missing or invalid X-Twilio-Signature");
  return c.body(await handle(form), 200, { "content-type": "text/xml; charset=utf-8" });
}

app.openapi(
  twilioRoute("/twilio/whatsapp", "Twilio: a WhatsApp message to our sender"),
  (c) => twilio(c, whatsappReply),
);
app.openapi(
  twilioRoute("/twilio/voice", "Twilio: the key pressed in a reminder call"),
  (c) => twilio(c, (form) => voiceGather(c.req.valid("query").dispatch ?? null, form)),
);
app.openapi(
  twilioRoute("/twilio/status", "Twilio: message and call status callbacks"),
  (c) =>
    twilio(c, async (form) => {
      await statusCallback(c.req.valid("query").dispatch ?? null, form);
      return twiml();
    }),
);
