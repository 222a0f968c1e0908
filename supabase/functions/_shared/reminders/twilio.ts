// Twilio over its REST API with plain fetch (the `twilio` package is CommonJS with axios and too
// big for an edge function): WhatsApp messages, calls with inline TwiML, and Verify v2. Requests
// are form-encoded POSTs with Basic auth (account SID and auth token).
//
// Policy: a 429 of Twilio's rate limiter (error 20429: refused, nothing was created) is retried
// twice, after 0.5 s and 1.5 s (Retry-After wins when Twilio sends one, up to 5 s). A 5xx or a network error is not
// retried: Twilio may have created the message or call anyway, and a reminder must never reach
// the user twice. Every error surfaces as a TwilioError with Twilio's own error code (e.g. 21211
// invalid number, 60202 too many checks), so callers can turn it into the right answer.

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  /** https://api.twilio.com, or the local fake. */
  apiUrl: string;
  /** https://verify.twilio.com, or the local fake. */
  verifyUrl: string;
  verifyServiceSid: string | null;
  /** The WhatsApp sender, e.g. whatsapp:+14155238886. */
  whatsappFrom: string | null;
  /** The approved WhatsApp template (HX...) for reminders outside the 24-hour window. */
  whatsappContentSid: string | null;
  /** The voice number calls come from, e.g. +14155550100. */
  voiceFrom: string | null;
}

/** The Twilio settings from the function's environment; null when Twilio is not configured. */
export function twilioConfig(env = Deno.env.toObject()): TwilioConfig | null {
  if (!env.TWILIO_ACCOUNT_SID || !env.TWILIO_AUTH_TOKEN) return null;
  return {
    accountSid: env.TWILIO_ACCOUNT_SID,
    authToken: env.TWILIO_AUTH_TOKEN,
    apiUrl: (env.TWILIO_API_URL || "https://api.twilio.com").replace(/\/$/, ""),
    verifyUrl: (env.TWILIO_VERIFY_URL || "https://verify.twilio.com").replace(/\/$/, ""),
    verifyServiceSid: env.TWILIO_VERIFY_SERVICE_SID || null,
    whatsappFrom: env.TWILIO_WHATSAPP_FROM || null,
    whatsappContentSid: env.TWILIO_WHATSAPP_CONTENT_SID || null,
    voiceFrom: env.TWILIO_VOICE_FROM || null,
  };
}

export class TwilioError extends Error {
  constructor(
    readonly status: number,
    /** Twilio's error code (https://www.twilio.com/docs/api/errors), when it gave one. */
    readonly code: number | null,
    message: string,
  ) {
    super(message);
  }
}

const RETRY_DELAYS_MS = [500, 1500];
const MAX_RETRY_AFTER_MS = 5000;

async function post<T>(
  cfg: TwilioConfig,
  url: string,
  params: Record<string, string | undefined>,
): Promise<T> {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) form.set(name, value);
  }
  const auth = "Basic " + btoa(`${cfg.accountSid}:${cfg.authToken}`);
  for (let attempt = 0;; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" },
        body: form,
        signal: AbortSignal.timeout(15_000),
      });
    } catch (e) {
      throw new TwilioError(0, null, `Twilio unreachable: ${e}`);
    }
    const text = await res.text();
    // deno-lint-ignore no-explicit-any
    let body: any = null;
    try {
      body = JSON.parse(text);
    } catch { /* not JSON */ }
    if (res.ok) return body as T;
    const rateLimited = res.status === 429 && (body?.code ?? 20429) === 20429;
    if (!rateLimited || attempt >= RETRY_DELAYS_MS.length) {
      const message = body?.message ?? `Twilio answered ${res.status}`;
      throw new TwilioError(res.status, body?.code ?? null, message);
    }
    const after = Number(res.headers.get("retry-after")) * 1000;
    await sleep(after > 0 ? Math.min(after, MAX_RETRY_AFTER_MS) : RETRY_DELAYS_MS[attempt]);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const account = (cfg: TwilioConfig) => `${cfg.apiUrl}/2010-04-01/Accounts/${cfg.accountSid}`;

function need(value: string | null, name: string): string {
  if (!value) throw new TwilioError(0, null, `${name} is not set`);
  return value;
}

/**
 * A WhatsApp message: free-form `body` inside the user's 24-hour session, otherwise the approved
 * template (`ContentSid` with `variables`); Twilio refuses template text sent as Body (63016).
 */
export async function sendWhatsApp(cfg: TwilioConfig, msg: {
  to: string;
  body?: string;
  variables?: Record<string, string>;
  statusCallback: string;
}): Promise<{ sid: string; status: string }> {
  const template = msg.body === undefined;
  return await post(cfg, `${account(cfg)}/Messages.json`, {
    From: need(cfg.whatsappFrom, "TWILIO_WHATSAPP_FROM"),
    To: `whatsapp:${msg.to}`,
    Body: msg.body,
    ContentSid: template ? need(cfg.whatsappContentSid, "TWILIO_WHATSAPP_CONTENT_SID") : undefined,
    ContentVariables: template ? JSON.stringify(msg.variables ?? {}) : undefined,
    StatusCallback: msg.statusCallback,
  });
}

/** A voice call that plays `twiml` (inline, at most 4,000 characters). */
export async function createCall(cfg: TwilioConfig, call: {
  to: string;
  twiml: string;
  statusCallback: string;
}): Promise<{ sid: string; status: string }> {
  if (call.twiml.length > 4000) {
    throw new TwilioError(0, null, "TwiML longer than 4,000 characters");
  }
  return await post(cfg, `${account(cfg)}/Calls.json`, {
    From: need(cfg.voiceFrom, "TWILIO_VOICE_FROM"),
    To: call.to,
    Twiml: call.twiml,
    StatusCallback: call.statusCallback,
  });
}

const verifyService = (cfg: TwilioConfig) =>
  `${cfg.verifyUrl}/v2/Services/${need(cfg.verifyServiceSid, "TWILIO_VERIFY_SERVICE_SID")}`;

/** Verify v2: sends a one-time code to `to` by SMS. */
export async function startVerification(cfg: TwilioConfig, to: string) {
  return await post<{ sid: string; status: string }>(cfg, `${verifyService(cfg)}/Verifications`, {
    To: to,
    Channel: "sms",
  });
}

/** Verify v2: checks a code; status "approved" when it is right. */
export async function checkVerification(cfg: TwilioConfig, to: string, code: string) {
  return await post<{ sid: string; status: string; valid: boolean }>(
    cfg,
    `${verifyService(cfg)}/VerificationCheck`,
    { To: to, Code: code },
  );
}
