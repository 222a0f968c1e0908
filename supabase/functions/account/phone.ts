// The account's phone and WhatsApp routes (reminders, SPEC 3.6), mounted by the account app:
//   POST   /account/phone/verify/send     {phone} (E.164): Twilio Verify sends a code by SMS
//   POST   /account/phone/verify/confirm  {code}: the number becomes the verified phone
//   POST   /account/whatsapp/opt-in       consent to WhatsApp reminders (needs a verified phone)
//   DELETE /account/whatsapp/opt-in       withdraw it
import { z } from "@hono/zod-openapi";
import type { AuthedEnv } from "../_shared/auth.ts";
import { json, jsonBody, route } from "../_shared/openapi.ts";
import type { createApp } from "../_shared/app.ts";
import { confirmCode, sendCode, setWhatsAppOptIn } from "../_shared/reminders/verification.ts";

const SendCode = z.strictObject({
  phone: z.string().regex(/^\+[1-9]\d{6,14}$/, "an E.164 number, e.g. +33612345678"),
});
const ConfirmCode = z.strictObject({
  code: z.string().regex(/^\d{4,10}$/, "the digits of the code"),
});

const Verification = z.object({
  phone: z.string(),
  status: z.enum(["pending", "approved", "expired"]),
  expires_at: z.iso.datetime({ offset: true }),
  attempts_left: z.number().int(),
}).openapi("PhoneVerification");
const Verified = z.object({ phone: z.string(), phone_verified: z.boolean() })
  .openapi("PhoneVerified");
const WhatsApp = z.object({
  whatsapp_opted_in: z.boolean(),
  opted_in_at: z.iso.datetime({ offset: true }).nullable(),
}).openapi("WhatsAppConsent");

export function phoneRoutes(app: ReturnType<typeof createApp<AuthedEnv>>) {
  const claims = (c: { get(key: "user"): AuthedEnv["Variables"]["user"] }) => c.get("user").claims;
  app.openapi(
    route({
      method: "post",
      path: "/phone/verify/send",
      summary: "Send a verification code to a phone number (Twilio Verify)",
      auth: "user",
      request: { body: jsonBody(SendCode) },
      responses: { 202: json(Verification, "Code sent") },
      errors: {
        400: "Invalid number",
        409: "Already verified",
        422: "Twilio refuses the number",
        429: "Too many codes",
        503: "Not configured",
      },
    }),
    async (c) => c.json(await sendCode(claims(c), c.req.valid("json").phone), 202),
  );
  app.openapi(
    route({
      method: "post",
      path: "/phone/verify/confirm",
      summary: "Confirm the code: the number becomes the verified phone",
      auth: "user",
      request: { body: jsonBody(ConfirmCode) },
      responses: { 200: json(Verified, "Verified") },
      errors: {
        409: "No code pending, or the number is on another account",
        410: "Code expired",
        422: "Wrong code",
        429: "Too many wrong codes",
      },
    }),
    async (c) => c.json(await confirmCode(claims(c), c.req.valid("json").code), 200),
  );
  app.openapi(
    route({
      method: "post",
      path: "/whatsapp/opt-in",
      summary: "Consent to WhatsApp reminders",
      auth: "user",
      responses: { 200: json(WhatsApp, "Opted in") },
      errors: { 409: "No verified phone" },
    }),
    async (c) =>
      c.json({
        whatsapp_opted_in: true,
        opted_in_at: await setWhatsAppOptIn(claims(c), true),
      }, 200),
  );
  app.openapi(
    route({
      method: "delete",
      path: "/whatsapp/opt-in",
      summary: "Withdraw WhatsApp consent",
      auth: "user",
      responses: { 200: json(WhatsApp, "Opted out") },
    }),
    async (c) => {
      await setWhatsAppOptIn(claims(c), false);
      return c.json({ whatsapp_opted_in: false, opted_in_at: null }, 200);
    },
  );
}
