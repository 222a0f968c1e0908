// The caller's own account (function `account`), the models they may pick (`models`), and
// `health`.
import { type Api, type BodyOf, data } from "./api.ts";

export function accountResource(api: Api) {
  return {
    /** Profile and budget status. */
    me: () => data(api.GET("/account/me")),
    /** Display name, time zone (IANA), preferences. */
    update: (body: BodyOf<"/account/me", "patch">) =>
      data(api.PATCH("/account/me", { body })),
    /** Everything the user owns, as JSON (GDPR export). */
    export: () => data(api.GET("/account/export")),
    /** Deletes the account and everything it owns. */
    delete: async () => {
      await api.DELETE("/account", { body: { confirm: "DELETE" } });
    },
    /** Phone verification (Twilio Verify): a code by SMS, then the code the user typed. */
    phone: {
      sendCode: (body: BodyOf<"/account/phone/verify/send", "post">) =>
        data(api.POST("/account/phone/verify/send", { body })),
      confirmCode: (body: BodyOf<"/account/phone/verify/confirm", "post">) =>
        data(api.POST("/account/phone/verify/confirm", { body })),
    },
    /** Consent to WhatsApp reminders (needs a verified phone), and its withdrawal. */
    whatsapp: {
      optIn: () => data(api.POST("/account/whatsapp/opt-in")),
      optOut: () => data(api.DELETE("/account/whatsapp/opt-in")),
    },
  };
}

export function modelsResource(api: Api) {
  return {
    /** The models the user may pick, with their capabilities and prices. */
    list: () => data(api.GET("/models")),
  };
}

export const healthCheck = (api: Api) => () => data(api.GET("/health"));
