// Function `reminders`: the escalation chain's endpoints that carry no user JWT.
//   POST /reminders/dispatch          the tick's batches (pg_net, Vault secret aide_webhook_secret)
//   POST /reminders/ack               a push notification's action (token from the payload)
//   POST /reminders/twilio/whatsapp   WhatsApp messages to our sender   } signed by Twilio
//   POST /reminders/twilio/voice      the reminder call's key press     } (X-Twilio-Signature
//   POST /reminders/twilio/status     message and call status callbacks } over the public URL)
// A Twilio request without a valid signature gets 403 and changes nothing.
import type { Context } from "hono";
import { z } from "zod";
import { ApiError, createApp } from "../_shared/http.ts";
import type { Operation } from "../_shared/openapi.ts";
import { requireBearerSecret } from "../_shared/secrets.ts";
import { jsonBody } from "../_shared/validate.ts";
import { dispatch } from "../_shared/reminders/dispatch.ts";
import { verifyAck } from "../_shared/reminders/ack.ts";
import { pushAction, statusCallback, voiceGather, whatsappReply } from "../_shared/reminders/answers.ts";
import { twiml } from "../_shared/reminders/twiml.ts";
import { verifiedTwilioForm } from "../_shared/reminders/webhook.ts";

const app = createApp("reminders");

const DispatchRequest = z.strictObject({ ids: z.array(z.uuid()).min(1).max(500) });
const AckRequest = z.strictObject({
  dispatch_id: z.uuid(),
  token: z.string().regex(/^[0-9a-f]{64}$/),
  action: z.enum(["done", "snooze"]),
});

app.post("/dispatch", async (c) => {
  await requireBearerSecret(c.req.raw, "aide_webhook_secret");
  const { ids } = await jsonBody(c, DispatchRequest);
  return c.json(await dispatch(ids));
});

app.post("/ack", async (c) => {
  const body = await jsonBody(c, AckRequest);
  if (!(await verifyAck(body.dispatch_id, body.token))) {
    throw new ApiError(403, "invalid_token", "The acknowledgement token does not match");
  }
  const result = await pushAction(body.dispatch_id, body.action);
  if (!result) throw new ApiError(404, "not_found", "No such reminder");
  return c.json(result);
});

/** Reads a Twilio webhook: 403 (and nothing done) unless signed; answers TwiML. */
const twilioWebhook = (handle: (form: URLSearchParams, c: Context) => Promise<string>) => async (c: Context) => {
  const form = await verifiedTwilioForm(c.req.raw);
  if (!form) throw new ApiError(403, "invalid_signature", "Missing or invalid X-Twilio-Signature");
  return c.body(await handle(form, c), 200, { "content-type": "text/xml; charset=utf-8" });
};

app.post("/twilio/whatsapp", twilioWebhook((form) => whatsappReply(form)));
app.post("/twilio/voice", twilioWebhook((form, c) => voiceGather(c.req.query("dispatch") ?? null, form)));
app.post(
  "/twilio/status",
  twilioWebhook(async (form, c) => {
    await statusCallback(c.req.query("dispatch") ?? null, form);
    return twiml();
  }),
);

const twilioResponses = { 200: "TwiML", 403: "Missing or invalid X-Twilio-Signature" };

/** This function's operations, for the OpenAPI document (npm run openapi). */
export const operations: Operation[] = [
  {
    method: "POST",
    path: "/dispatch",
    summary: "Send a batch of claimed reminder stages (called by the reminder tick)",
    auth: "secret",
    body: DispatchRequest,
    responses: { 200: "Counts by outcome", 400: "Invalid body", 401: "Bad secret" },
  },
  {
    method: "POST",
    path: "/ack",
    summary: "A push notification's action (done, snooze), with the token from its payload",
    auth: "signature",
    body: AckRequest,
    responses: { 200: "Applied", 400: "Invalid body", 403: "Bad token", 404: "No such reminder" },
  },
  { method: "POST", path: "/twilio/whatsapp", summary: "Twilio: a WhatsApp message to our sender", auth: "signature", responses: twilioResponses },
  { method: "POST", path: "/twilio/voice", summary: "Twilio: the key pressed in a reminder call", auth: "signature", responses: twilioResponses },
  { method: "POST", path: "/twilio/status", summary: "Twilio: message and call status callbacks", auth: "signature", responses: twilioResponses },
];

export { app };
Deno.serve(app.fetch);
