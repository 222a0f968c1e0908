// The account's phone and WhatsApp routes (reminders, SPEC 3.6), mounted by the account app:
//   POST   /account/phone/verify/send     {phone} (E.164): Twilio Verify sends a code by SMS
//   POST   /account/phone/verify/confirm  {code}: the number becomes the verified phone
//   POST   /account/whatsapp/opt-in       consent to WhatsApp reminders (needs a verified phone)
//   DELETE /account/whatsapp/opt-in       withdraw it
import type { Context, Hono } from "hono";
import { z } from "zod";
import type { AuthedEnv } from "../_shared/auth.ts";
import type { Operation } from "../_shared/openapi_legacy.ts";
import { jsonBody } from "../_shared/validate.ts";
import { confirmCode, sendCode, setWhatsAppOptIn } from "../_shared/reminders/verification.ts";

const SendCode = z.strictObject({
  phone: z.string().regex(/^\+[1-9]\d{6,14}$/, "an E.164 number, e.g. +33612345678"),
});
const ConfirmCode = z.strictObject({ code: z.string().regex(/^\d{4,10}$/, "the digits of the code") });

type C = Context<AuthedEnv>;
const claims = (c: C) => c.get("user").claims;

export function phoneRoutes(app: Hono<AuthedEnv>) {
  app.post("/phone/verify/send", async (c) => {
    const { phone } = await jsonBody(c, SendCode);
    return c.json(await sendCode(claims(c), phone), 202);
  });
  app.post("/phone/verify/confirm", async (c) => {
    const { code } = await jsonBody(c, ConfirmCode);
    return c.json(await confirmCode(claims(c), code));
  });
  app.post("/whatsapp/opt-in", async (c) => {
    return c.json({ whatsapp_opted_in: true, opted_in_at: await setWhatsAppOptIn(claims(c), true) });
  });
  app.delete("/whatsapp/opt-in", async (c) => {
    await setWhatsAppOptIn(claims(c), false);
    return c.json({ whatsapp_opted_in: false, opted_in_at: null });
  });
}

export const phoneOperations: Operation[] = [
  {
    method: "POST",
    path: "/phone/verify/send",
    summary: "Send a verification code to a phone number (Twilio Verify)",
    auth: "user",
    body: SendCode,
    responses: { 202: "Code sent", 400: "Invalid number", 409: "Already verified", 422: "Twilio refuses the number", 429: "Too many codes", 503: "Not configured" },
  },
  {
    method: "POST",
    path: "/phone/verify/confirm",
    summary: "Confirm the code: the number becomes the verified phone",
    auth: "user",
    body: ConfirmCode,
    responses: { 200: "Verified", 400: "Invalid body", 409: "No code pending, or the number is on another account", 410: "Code expired", 422: "Wrong code", 429: "Too many wrong codes" },
  },
  { method: "POST", path: "/whatsapp/opt-in", summary: "Consent to WhatsApp reminders", auth: "user", responses: { 200: "Opted in", 409: "No verified phone" } },
  { method: "DELETE", path: "/whatsapp/opt-in", summary: "Withdraw WhatsApp consent", auth: "user", responses: { 200: "Opted out" } },
];
