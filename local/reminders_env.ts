// The reminder channels' settings for a local stack: a Twilio account and a VAPID key pair made
// once per stack (kept in .local/<stack>/reminders.json, so a browser's push subscriptions and
// the fake's signatures stay valid across restarts), pointing at the fake Twilio and push
// service. On the dev stack, a real TWILIO_ACCOUNT_SID (or VAPID key) in the environment or
// supabase/functions/.env wins, and that fake is not used.
import { join } from "node:path";
import { generateVapidKeys } from "../supabase/functions/_shared/reminders/push.ts";
import type { StackConfig } from "./config.ts";

interface Generated {
  accountSid: string;
  authToken: string;
  verifyServiceSid: string;
  contentSid: string;
  vapidPublicKey: string;
  vapidPrivateKey: string;
}

const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0"))
    .join("");

function loadOrCreate(cfg: StackConfig): Generated {
  const file = join(cfg.dir, "reminders.json");
  try {
    return JSON.parse(Deno.readTextFileSync(file));
  } catch {
    const vapid = generateVapidKeys();
    const generated: Generated = {
      accountSid: "AC" + hex(16),
      authToken: hex(16),
      verifyServiceSid: "VA" + hex(16),
      contentSid: "HX" + hex(16),
      vapidPublicKey: vapid.publicKey,
      vapidPrivateKey: vapid.privateKey,
    };
    Deno.writeTextFileSync(file, JSON.stringify(generated), { mode: 0o600 });
    return generated;
  }
}

/** Env vars for the functions (and stack.env), and which fakes the stack must serve. */
export function reminderEnv(cfg: StackConfig, apiUrl: string, secrets: Record<string, string>) {
  const given = (name: string) => Deno.env.get(name) ?? secrets[name];
  const realTwilio = cfg.name === "dev" && !!given("TWILIO_ACCOUNT_SID");
  const realVapid = cfg.name === "dev" && !!given("VAPID_PRIVATE_KEY");
  const g = loadOrCreate(cfg);
  const twilioUrl = `http://127.0.0.1:${cfg.ports.twilio}`;
  const pushUrl = `http://127.0.0.1:${cfg.ports.push}`;
  const env: Record<string, string> = {
    AIDE_PUBLIC_URL: given("AIDE_PUBLIC_URL") ?? apiUrl,
  };
  if (!realTwilio) {
    Object.assign(env, {
      TWILIO_ACCOUNT_SID: g.accountSid,
      TWILIO_AUTH_TOKEN: g.authToken,
      TWILIO_VERIFY_SERVICE_SID: g.verifyServiceSid,
      TWILIO_WHATSAPP_FROM: "whatsapp:+14155238886",
      TWILIO_WHATSAPP_CONTENT_SID: g.contentSid,
      TWILIO_VOICE_FROM: "+15005550006",
      TWILIO_API_URL: twilioUrl,
      TWILIO_VERIFY_URL: twilioUrl,
    });
  }
  if (!realVapid) {
    Object.assign(env, {
      VAPID_PUBLIC_KEY: g.vapidPublicKey,
      VAPID_PRIVATE_KEY: g.vapidPrivateKey,
      VAPID_SUBJECT: "mailto:reminders@example.com",
      AIDE_PUSH_EXTRA_ORIGINS: pushUrl,
    });
  }
  return {
    env,
    fakeTwilio: realTwilio ? null : twilioUrl,
    fakePush: realVapid ? null : pushUrl,
  };
}
