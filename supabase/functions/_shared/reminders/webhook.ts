// Twilio's webhooks reach us at the project's public URL (AIDE_PUBLIC_URL, what SUPABASE_URL is
// to clients: https://<ref>.supabase.co), and Twilio signs that URL. Behind Supabase's gateway the
// function sees another host, so signatures are checked against AIDE_PUBLIC_URL plus the path and
// query string, never against the URL of the request as it arrives.
import { verifyTwilioSignature } from "./signature.ts";
import { twilioConfig } from "./twilio.ts";

export function publicBaseUrl(): string {
  const base = Deno.env.get("AIDE_PUBLIC_URL");
  if (!base) {
    throw new Error(
      "AIDE_PUBLIC_URL is not set (the project's public URL, e.g. https://<ref>.supabase.co)",
    );
  }
  return base.replace(/\/+$/, "");
}

/** The public URL of a route of ours, e.g. webhookUrl("/reminders/twilio/voice?dispatch=..."). */
export const webhookUrl = (path: string) => `${publicBaseUrl()}/functions/v1${path}`;

/**
 * The form parameters of a request signed by Twilio, or null when the signature is missing or
 * wrong (or Twilio is not configured). The signature is checked over the raw body bytes.
 */
export async function verifiedTwilioForm(req: Request): Promise<URLSearchParams | null> {
  const cfg = twilioConfig();
  const raw = new Uint8Array(await req.arrayBuffer());
  const url = new URL(req.url);
  if (!cfg) return null;
  const ok = await verifyTwilioSignature({
    authToken: cfg.authToken,
    publicUrl: webhookUrl(url.pathname + url.search),
    rawBody: raw,
    signature: req.headers.get("x-twilio-signature"),
  });
  return ok ? new URLSearchParams(new TextDecoder().decode(raw)) : null;
}
