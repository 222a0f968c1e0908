/**
 * A fake Twilio speaking the REST API Aide uses, on one port for both hosts
 * (api.twilio.com and verify.twilio.com):
 *
 *   POST /2010-04-01/Accounts/{Sid}/Messages.json   WhatsApp messages
 *   POST /2010-04-01/Accounts/{Sid}/Calls.json      calls with inline Twiml (or Url)
 *   POST /v2/Services/{Sid}/Verifications           Verify: send a code by SMS
 *   POST /v2/Services/{Sid}/VerificationCheck       Verify: check it
 *
 * with Basic auth (account SID, auth token) and Twilio's error bodies and codes. Like Twilio, it
 * then calls back, signed with X-Twilio-Signature: message status callbacks (sent, delivered, or
 * failed with ErrorCode 63016 when free-form text goes outside the 24-hour session), and it
 * "plays" each call: reads the TwiML, presses the digits scripted for the number, posts the
 * Gather action, and ends with the call's status callback.
 *
 * Control routes for tests (no auth, loopback only):
 *   POST /__fake/twilio/script {to, ...}   how the next request to this number goes (see Script)
 *   POST /__fake/twilio/inbound {from, body, url?}   the user writes on WhatsApp: posts the
 *        signed webhook to Aide and answers with Aide's response
 *   GET  /__fake/twilio/messages | calls | verifications   what was sent (codes included)
 *   POST /__fake/twilio/verifications/expire {to}   the pending code runs out
 *   GET  /__fake/twilio/idle   {pending}: callbacks not finished yet
 *   POST /__fake/twilio/reset
 */
import { json } from "./script.ts";

export interface TwilioFakeConfig {
  accountSid: string;
  authToken: string;
  verifyServiceSid: string;
  whatsappFrom: string;
  voiceFrom: string;
  /** Where "a message comes in" for the WhatsApp sender is configured to go. */
  inboundUrl: string;
}

/** How the fake treats the next request (message, call) to a number. */
export interface Script {
  to: string;
  /** Which request it is for (default: the next of any kind to this number). */
  kind?: "message" | "call" | "verification";
  /** Refuse the next request with this HTTP status and Twilio error code. */
  status?: number;
  code?: number;
  message?: string;
  /** Hold the REST answer this long (the message or call is created first). */
  hold_ms?: number;
  /** Calls: what the callee does. Default "answer". */
  answer?: "answer" | "no-answer" | "busy";
  /** Calls: keys pressed at each Gather, in order ("" = none). Default: none. */
  digits?: string[];
  /** Messages: the final status callback ("delivered" by default, or "failed"/"undelivered"). */
  final_status?: "delivered" | "failed" | "undelivered" | "read";
  error_code?: number;
}

interface MessageRecord {
  sid: string;
  from: string;
  to: string;
  body: string | null;
  content_sid: string | null;
  content_variables: Record<string, string> | null;
  status_callback: string | null;
  status: string;
  error_code: number | null;
  created_at: string;
}

interface CallRecord {
  sid: string;
  from: string;
  to: string;
  twiml: string | null;
  url: string | null;
  status_callback: string | null;
  status: string;
  /** Each Gather the fake answered: the digits it pressed and Aide's TwiML answer. */
  gathers: { action: string; digits: string; response_status: number; response: string }[];
  created_at: string;
}

interface Verification {
  sid: string;
  to: string;
  code: string;
  status: "pending" | "approved" | "canceled" | "expired";
  channel: string;
  sends: number[]; // times of sends in the current window
  checks: number;
  expires_at: number;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const CODE_TTL_MS = 10 * 60_000;
const MAX_SENDS = 5; // per number per 10 minutes (Verify's default)
const MAX_CHECKS = 5; // wrong codes per verification
const SESSION_MS = 24 * 3600_000;

/** Twilio's X-Twilio-Signature, written independently of Aide's own implementation. */
async function sign(authToken: string, url: string, params: URLSearchParams): Promise<string> {
  const names = [...params.keys()].sort();
  let data = url;
  for (const name of names) data += name + (params.get(name) ?? "");
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(authToken),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(data)));
  return btoa(String.fromCharCode(...mac));
}

const twilioError = (status: number, code: number, message: string, headers: HeadersInit = {}) =>
  json(
    { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
    status,
    headers,
  );

const hex = (n: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(n / 2)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
const sid = (prefix: string) => prefix + hex(32);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createTwilioHandler(cfg: TwilioFakeConfig) {
  let messages: MessageRecord[] = [];
  let calls: CallRecord[] = [];
  let verifications = new Map<string, Verification>(); // by number
  let scripts = new Map<string, Script[]>();
  let sessions = new Map<string, number>(); // number -> last inbound message time
  let pending = 0;

  const nextScript = (to: string, kind: Script["kind"]): Script => {
    const queue = scripts.get(to) ?? [];
    const i = queue.findIndex((s) => !s.kind || s.kind === kind);
    return i < 0 ? { to } : queue.splice(i, 1)[0];
  };

  /** Posts a signed form to Aide, as Twilio does for callbacks and incoming messages. */
  async function callback(url: string, params: URLSearchParams) {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": await sign(cfg.authToken, url, params),
        "i-twilio-idempotency-token": crypto.randomUUID(),
      },
      body: params,
    });
    return { status: res.status, text: await res.text() };
  }

  /** Background work (callbacks, calls) counted so tests can wait for it. */
  function later(work: () => Promise<void>) {
    pending++;
    (async () => {
      try {
        await work();
      } catch (e) {
        console.error(
          JSON.stringify({ level: "error", msg: "twilio fake callback failed", error: String(e) }),
        );
      } finally {
        pending--;
      }
    })();
  }

  function checkAuth(req: Request): Response | null {
    const expected = "Basic " + btoa(`${cfg.accountSid}:${cfg.authToken}`);
    if (req.headers.get("authorization") !== expected) {
      return twilioError(401, 20003, "Authentication Error - invalid username");
    }
    return null;
  }

  async function form(req: Request): Promise<URLSearchParams | null> {
    if (!/^application\/x-www-form-urlencoded/i.test(req.headers.get("content-type") ?? "")) {
      return null;
    }
    return new URLSearchParams(await req.text());
  }

  function messageStatusParams(m: MessageRecord, status: string, errorCode?: number) {
    const p = new URLSearchParams({
      AccountSid: cfg.accountSid,
      ApiVersion: "2010-04-01",
      From: m.from,
      MessageSid: m.sid,
      MessageStatus: status,
      SmsSid: m.sid,
      SmsStatus: status,
      To: m.to,
    });
    if (errorCode) p.set("ErrorCode", String(errorCode));
    return p;
  }

  async function createMessage(p: URLSearchParams): Promise<Response> {
    const from = p.get("From") ?? "";
    const to = p.get("To") ?? "";
    const number = to.replace(/^whatsapp:/, "");
    if (!to.startsWith("whatsapp:") || !E164.test(number)) {
      return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    }
    if (from !== cfg.whatsappFrom) {
      return twilioError(
        400,
        63007,
        "Twilio could not find a Channel with the specified From address",
      );
    }
    const body = p.get("Body");
    const contentSid = p.get("ContentSid");
    if (!body && !contentSid) {
      return twilioError(400, 21619, "A text message body or media urls must be specified.");
    }
    let variables: Record<string, string> | null = null;
    if (contentSid) {
      try {
        variables = JSON.parse(p.get("ContentVariables") ?? "{}");
      } catch {
        return twilioError(400, 21656, "The ContentVariables Parameter is invalid.");
      }
    }
    const script = nextScript(number, "message");
    if (script.status) {
      return twilioError(script.status, script.code ?? 20500, script.message ?? "Scripted error");
    }
    const m: MessageRecord = {
      sid: sid("SM"),
      from,
      to,
      body: contentSid ? null : body,
      content_sid: contentSid,
      content_variables: variables,
      status_callback: p.get("StatusCallback"),
      status: "queued",
      error_code: null,
      created_at: new Date().toISOString(),
    };
    messages.push(m);
    // Free-form text is only allowed within 24 hours of the user's last message (63016).
    const sessionOpen = Date.now() - (sessions.get(number) ?? -Infinity) < SESSION_MS;
    const final = !contentSid && !sessionOpen ? "failed" : script.final_status ?? "delivered";
    const errorCode = final === "failed" || final === "undelivered"
      ? (!contentSid && !sessionOpen ? 63016 : script.error_code ?? 30008)
      : undefined;
    later(async () => {
      await sleep(20);
      for (const status of final === "delivered" || final === "read" ? ["sent", final] : [final]) {
        m.status = status;
        if (errorCode) m.error_code = errorCode;
        if (m.status_callback) {
          await callback(m.status_callback, messageStatusParams(m, status, errorCode));
        }
      }
    });
    if (script.hold_ms) await sleep(script.hold_ms);
    return json({
      sid: m.sid,
      account_sid: cfg.accountSid,
      from: m.from,
      to: m.to,
      body: m.body,
      status: "queued",
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${cfg.accountSid}/Messages/${m.sid}.json`,
    }, 201);
  }

  /** The Gather of a TwiML document: its action URL and whether an empty result is posted. */
  function gatherOf(twiml: string) {
    const tag = twiml.match(/<Gather\b([^>]*)>/)?.[1];
    if (!tag) return null;
    const attr = (name: string) =>
      tag.match(new RegExp(`\\b${name}="([^"]*)"`))?.[1]?.replace(/&amp;/g, "&").replace(
        /&quot;/g,
        '"',
      );
    return { action: attr("action") ?? null, emptyResult: attr("actionOnEmptyResult") === "true" };
  }

  async function playCall(call: CallRecord, script: Script) {
    const base = {
      AccountSid: cfg.accountSid,
      ApiVersion: "2010-04-01",
      CallSid: call.sid,
      Direction: "outbound-api",
      From: call.from,
      To: call.to,
    };
    const answer = script.answer ?? "answer";
    if (answer === "answer") {
      let twiml = call.twiml ?? "";
      if (call.url) {
        const res = await callback(
          call.url,
          new URLSearchParams({ ...base, CallStatus: "in-progress" }),
        );
        twiml = res.text;
      }
      const digits = [...(script.digits ?? [])];
      for (let round = 0; round < 5; round++) {
        const gather = gatherOf(twiml);
        if (!gather?.action) break;
        const pressed = digits.shift() ?? "";
        if (!pressed && !gather.emptyResult) break;
        const params = new URLSearchParams({ ...base, CallStatus: "in-progress" });
        if (pressed) params.set("Digits", pressed);
        const res = await callback(gather.action, params);
        call.gathers.push({
          action: gather.action,
          digits: pressed,
          response_status: res.status,
          response: res.text,
        });
        twiml = res.text;
      }
    }
    call.status = answer === "answer" ? "completed" : answer;
    if (call.status_callback) {
      await callback(
        call.status_callback,
        new URLSearchParams({
          ...base,
          CallStatus: call.status,
          CallDuration: answer === "answer" ? "12" : "0",
        }),
      );
    }
  }

  async function createCall(p: URLSearchParams): Promise<Response> {
    const to = p.get("To") ?? "";
    if (!E164.test(to)) return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (p.get("From") !== cfg.voiceFrom) {
      return twilioError(400, 21210, "'From' phone number not verified");
    }
    const twiml = p.get("Twiml");
    const url = p.get("Url");
    if (!twiml && !url) return twilioError(400, 21205, "Url parameter is required.");
    if (twiml && twiml.length > 4000) {
      return twilioError(400, 13105, "Twiml exceeds 4000 characters");
    }
    const script = nextScript(to, "call");
    if (script.status) {
      return twilioError(script.status, script.code ?? 20500, script.message ?? "Scripted error");
    }
    const call: CallRecord = {
      sid: sid("CA"),
      from: p.get("From")!,
      to,
      twiml,
      url,
      status_callback: p.get("StatusCallback"),
      status: "queued",
      gathers: [],
      created_at: new Date().toISOString(),
    };
    calls.push(call);
    later(async () => {
      await sleep(20);
      await playCall(call, script);
    });
    if (script.hold_ms) await sleep(script.hold_ms);
    return json({
      sid: call.sid,
      account_sid: cfg.accountSid,
      from: call.from,
      to: call.to,
      status: "queued",
      date_created: new Date().toUTCString(),
    }, 201);
  }

  function verificationJson(v: Verification) {
    return {
      sid: v.sid,
      service_sid: cfg.verifyServiceSid,
      account_sid: cfg.accountSid,
      to: v.to,
      channel: v.channel,
      status: v.status,
      valid: v.status === "approved",
      date_created: new Date().toISOString(),
    };
  }

  function startVerification(p: URLSearchParams): Response {
    const to = p.get("To") ?? "";
    const channel = p.get("Channel") ?? "";
    if (!E164.test(to)) return twilioError(400, 60200, "Invalid parameter `To`: " + to);
    if (!["sms", "call", "whatsapp", "email"].includes(channel)) {
      return twilioError(400, 60200, "Invalid parameter: Channel");
    }
    const script = nextScript(to, "verification");
    if (script.status) {
      return twilioError(script.status, script.code ?? 20500, script.message ?? "Scripted error");
    }
    const now = Date.now();
    const existing = verifications.get(to);
    const sends = (existing?.sends ?? []).filter((t) => now - t < CODE_TTL_MS);
    if (sends.length >= MAX_SENDS) return twilioError(429, 60203, "Max send attempts reached");
    const live = existing?.status === "pending" && existing.expires_at > now;
    const v: Verification = {
      sid: live ? existing!.sid : sid("VE"),
      to,
      code: live
        ? existing!.code
        : String(100000 + (crypto.getRandomValues(new Uint32Array(1))[0] % 900000)),
      status: "pending",
      channel,
      sends: [...sends, now],
      checks: live ? existing!.checks : 0,
      expires_at: now + CODE_TTL_MS,
    };
    verifications.set(to, v);
    return json(verificationJson(v), 201);
  }

  function checkVerification(p: URLSearchParams): Response {
    const to = p.get("To") ?? "";
    const code = p.get("Code") ?? "";
    if (!code) return twilioError(400, 60200, "Invalid parameter: Code");
    const v = verifications.get(to);
    if (v && v.status === "pending" && v.expires_at <= Date.now()) v.status = "expired";
    if (!v || v.status !== "pending") {
      return twilioError(
        404,
        20404,
        `The requested resource /Services/${cfg.verifyServiceSid}/VerificationCheck was not found`,
      );
    }
    if (v.checks >= MAX_CHECKS) return twilioError(429, 60202, "Max check attempts reached");
    if (code !== v.code) {
      v.checks++;
      return json(verificationJson(v));
    }
    v.status = "approved";
    return json(verificationJson(v));
  }

  async function control(req: Request, path: string): Promise<Response> {
    const body = req.method === "POST" ? await req.json().catch(() => ({})) : {};
    switch (`${req.method} ${path}`) {
      case "POST /__fake/twilio/script": {
        const s = body as Script;
        if (!s.to) return json({ error: "script needs `to`" }, 400);
        scripts.set(s.to, [...(scripts.get(s.to) ?? []), s]);
        return json({ ok: true });
      }
      case "POST /__fake/twilio/inbound": {
        const from = String(body.from ?? "");
        sessions.set(from, Date.now());
        const params = new URLSearchParams({
          AccountSid: cfg.accountSid,
          ApiVersion: "2010-04-01",
          Body: String(body.body ?? ""),
          From: `whatsapp:${from}`,
          MessageSid: sid("SM"),
          NumMedia: "0",
          NumSegments: "1",
          ProfileName: "Test User",
          SmsMessageSid: "",
          SmsSid: "",
          SmsStatus: "received",
          To: cfg.whatsappFrom,
          WaId: from.replace(/^\+/, ""),
        });
        params.set("SmsMessageSid", params.get("MessageSid")!);
        params.set("SmsSid", params.get("MessageSid")!);
        const res = await callback(String(body.url ?? cfg.inboundUrl), params);
        return json(res);
      }
      case "GET /__fake/twilio/messages":
        return json(messages);
      case "GET /__fake/twilio/calls":
        return json(calls);
      case "GET /__fake/twilio/verifications":
        return json([...verifications.values()]);
      case "POST /__fake/twilio/verifications/expire": {
        const v = verifications.get(String(body.to));
        if (v) v.expires_at = Date.now() - 1;
        return json({ ok: !!v });
      }
      case "GET /__fake/twilio/idle":
        return json({ pending });
      case "POST /__fake/twilio/reset":
        messages = [];
        calls = [];
        verifications = new Map();
        scripts = new Map();
        sessions = new Map();
        return json({ ok: true });
    }
    return json({ error: `no control route ${req.method} ${path}` }, 404);
  }

  return async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (path.startsWith("/__fake/")) return await control(req, path);
    const account = path.match(/^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/);
    const verify = path.match(/^\/v2\/Services\/([^/]+)\/(Verifications|VerificationCheck)$/);
    if ((!account && !verify) || req.method !== "POST") {
      return twilioError(404, 20404, `The requested resource ${path} was not found`);
    }
    const denied = checkAuth(req);
    if (denied) return denied;
    if (account && account[1] !== cfg.accountSid) {
      return twilioError(404, 20404, `The requested resource ${path} was not found`);
    }
    if (verify && verify[1] !== cfg.verifyServiceSid) {
      return twilioError(404, 20404, `The requested resource ${path} was not found`);
    }
    const p = await form(req);
    if (!p) return twilioError(400, 20001, "Send the parameters form-encoded");
    if (account?.[2] === "Messages") return await createMessage(p);
    if (account?.[2] === "Calls") return await createCall(p);
    if (verify?.[2] === "Verifications") return startVerification(p);
    return checkVerification(p);
  };
}
