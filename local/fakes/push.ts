/**
 * A fake Web Push service (RFC 8030) standing in for FCM, Mozilla's autopush or Apple's: it
 * checks the VAPID authorization (RFC 8292: an ES256 JWT for this origin, signed by the key in
 * `k=`, expiring within 24 hours), decrypts the aes128gcm payload (RFC 8188 + RFC 8291) with the
 * subscription's private key, as the browser would, and answers 201 with a Location, or what a
 * test scripted (404, 410 for an expired subscription, 429, 5xx). Written with Web Crypto only,
 * independently of the web-push package Aide sends with.
 *
 *   POST /push/{id}                         a push message
 *   POST /__fake/push/subscriptions         a new browser subscription: {endpoint, keys}
 *   POST /__fake/push/script {endpoint, status?, hold_ms?, times?}   the next `times` pushes
 *        answer `status` (default 201), after holding the answer `hold_ms`
 *   GET  /__fake/push/messages              what each subscription received, decrypted
 *   POST /__fake/push/reset
 */
import { json } from "./script.ts";

interface Subscription {
  id: string;
  privateKey: CryptoKey;
  publicRaw: Uint8Array<ArrayBuffer>;
  auth: Uint8Array<ArrayBuffer>;
  /** Scripted answers, used one per push. */
  script: { status: number; hold_ms: number }[];
  gone: boolean;
}

interface Received {
  id: string;
  subscription: string;
  endpoint: string;
  status: number;
  ttl: number | null;
  urgency: string | null;
  topic: string | null;
  /** The decrypted payload, as the service worker's push event would see it. */
  payload: string | null;
  error: string | null;
  at: string;
}

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromB64url = (text: string) =>
  Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const text = (s: string) => new TextEncoder().encode(s);

async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data as Uint8Array<ArrayBuffer>));
}

/** HKDF (RFC 5869) with one expand block, enough for the 12-32 byte keys of RFC 8291. */
async function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, length: number) {
  const prk = await hmac(salt, ikm);
  return (await hmac(prk, concat(info, new Uint8Array([1])))).slice(0, length);
}

/** RFC 8291 decryption of one aes128gcm body for the subscription. */
async function decrypt(sub: Subscription, body: Uint8Array): Promise<string> {
  if (body.length < 21 + 65) throw new Error("body shorter than the aes128gcm header");
  const salt = body.slice(0, 16);
  const recordSize = new DataView(body.buffer, body.byteOffset + 16, 4).getUint32(0);
  const idLength = body[20];
  if (idLength !== 65) throw new Error(`keyid is ${idLength} bytes, expected a 65-byte P-256 key`);
  const senderRaw = body.slice(21, 21 + idLength);
  const ciphertext = body.slice(21 + idLength);
  if (ciphertext.length > recordSize) throw new Error("more than one record");
  const senderKey = await crypto.subtle.importKey(
    "raw",
    senderRaw,
    { name: "ECDH", namedCurve: "P-256" },
    false,
    [],
  );
  const shared = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "ECDH", public: senderKey }, sub.privateKey, 256),
  );
  const keyInfo = concat(text("WebPush: info\0"), sub.publicRaw, senderRaw);
  const ikm = await hkdf(sub.auth, shared, keyInfo, 32);
  const cek = await hkdf(salt, ikm, text("Content-Encoding: aes128gcm\0"), 16);
  const nonce = await hkdf(salt, ikm, text("Content-Encoding: nonce\0"), 12);
  const key = await crypto.subtle.importKey(
    "raw",
    cek as Uint8Array<ArrayBuffer>,
    "AES-GCM",
    false,
    ["decrypt"],
  );
  const plain = new Uint8Array(
    await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: nonce as Uint8Array<ArrayBuffer> },
      key,
      ciphertext,
    ),
  );
  // The last record ends with the delimiter 0x02 followed by zero padding.
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Error("missing the last-record delimiter");
  return new TextDecoder().decode(plain.slice(0, end));
}

/** Checks `Authorization: vapid t=<jwt>, k=<key>`; returns an error message or null. */
async function checkVapid(header: string | null, origin: string, verified: Set<string>) {
  const m = header?.match(/^vapid\s+t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/);
  if (!m) return "missing or malformed VAPID authorization";
  const [, token, k] = m;
  const [head, payload, signature] = token.split(".");
  if (!signature) return "malformed JWT";
  let claims: { aud?: string; exp?: number; sub?: string };
  try {
    const h = JSON.parse(new TextDecoder().decode(fromB64url(head)));
    if (h.alg !== "ES256") return `JWT alg ${h.alg}, expected ES256`;
    claims = JSON.parse(new TextDecoder().decode(fromB64url(payload)));
  } catch {
    return "malformed JWT";
  }
  const now = Date.now() / 1000;
  if (claims.aud !== origin) return `JWT aud ${claims.aud}, expected ${origin}`;
  if (!claims.exp || claims.exp <= now || claims.exp > now + 24 * 3600) {
    return "JWT exp not within 24 hours";
  }
  if (!/^(mailto:|https:)/.test(claims.sub ?? "")) {
    return "JWT sub must be a mailto: or https: contact";
  }
  if (verified.has(`${token} ${k}`)) return null;
  try {
    const key = await crypto.subtle.importKey(
      "raw",
      fromB64url(k),
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    const ok = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key,
      fromB64url(signature),
      text(`${head}.${payload}`),
    );
    if (!ok) return "JWT signature does not match k";
  } catch (e) {
    return `bad VAPID key: ${e}`;
  }
  verified.add(`${token} ${k}`);
  return null;
}

export function createPushHandler() {
  let subscriptions = new Map<string, Subscription>();
  let received: Received[] = [];
  const verified = new Set<string>(); // tokens already checked (a sender reuses one for hours)

  async function newSubscription(origin: string) {
    const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
      "deriveBits",
    ]) as CryptoKeyPair;
    const sub: Subscription = {
      id: crypto.randomUUID(),
      privateKey: pair.privateKey,
      publicRaw: new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)),
      auth: crypto.getRandomValues(new Uint8Array(16)),
      script: [],
      gone: false,
    };
    subscriptions.set(sub.id, sub);
    return {
      endpoint: `${origin}/push/${sub.id}`,
      expirationTime: null,
      keys: { p256dh: b64url(sub.publicRaw), auth: b64url(sub.auth) },
    };
  }

  async function push(req: Request, origin: string, id: string): Promise<Response> {
    const sub = subscriptions.get(id);
    const record = (status: number, payload: string | null, error: string | null) => {
      received.push({
        id: crypto.randomUUID(),
        subscription: id,
        endpoint: `${origin}/push/${id}`,
        status,
        ttl: req.headers.has("ttl") ? Number(req.headers.get("ttl")) : null,
        urgency: req.headers.get("urgency"),
        topic: req.headers.get("topic"),
        payload,
        error,
        at: new Date().toISOString(),
      });
      return received.at(-1)!;
    };
    const body = new Uint8Array(await req.arrayBuffer());
    if (!sub) return json({ error: "no such subscription" }, 404);
    if (sub.gone) {
      record(410, null, "subscription expired");
      return json({ error: "subscription expired" }, 410);
    }
    const vapidError = await checkVapid(req.headers.get("authorization"), origin, verified);
    if (vapidError) {
      record(403, null, vapidError);
      return json({ error: vapidError }, 403);
    }
    if (!req.headers.has("ttl")) {
      record(400, null, "missing TTL header");
      return json({ error: "missing TTL header" }, 400);
    }
    if (req.headers.get("content-encoding") !== "aes128gcm") {
      record(415, null, "Content-Encoding must be aes128gcm");
      return json({ error: "Content-Encoding must be aes128gcm" }, 415);
    }
    let payload: string;
    try {
      payload = await decrypt(sub, body);
    } catch (e) {
      record(400, null, `cannot decrypt: ${e}`);
      return json({ error: `cannot decrypt: ${e}` }, 400);
    }
    const scripted = sub.script.shift() ?? { status: 201, hold_ms: 0 };
    // Recorded on receipt (the browser has it), before any scripted hold of the answer.
    const r = record(scripted.status, payload, scripted.status === 201 ? null : "scripted");
    if (scripted.hold_ms) await new Promise((resolve) => setTimeout(resolve, scripted.hold_ms));
    if (scripted.status !== 201) {
      if (scripted.status === 410) sub.gone = true;
      return json(
        { error: "scripted" },
        scripted.status,
        scripted.status === 429 ? { "retry-after": "30" } : {},
      );
    }
    return new Response(null, { status: 201, headers: { location: `${origin}/messages/${r.id}` } });
  }

  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    const target = path.match(/^\/push\/([0-9a-f-]{36})$/);
    if (target && req.method === "POST") return await push(req, url.origin, target[1]);
    switch (`${req.method} ${path}`) {
      case "POST /__fake/push/subscriptions":
        return json(await newSubscription(url.origin), 201);
      case "POST /__fake/push/script": {
        const body = await req.json().catch(() => ({}));
        const id = String(body.endpoint ?? "").match(/\/push\/([0-9a-f-]{36})$/)?.[1];
        const sub = id && subscriptions.get(id);
        if (!sub) return json({ error: "unknown endpoint" }, 404);
        const entry = { status: Number(body.status ?? 201), hold_ms: Number(body.hold_ms ?? 0) };
        for (let i = 0; i < Number(body.times ?? 1); i++) sub.script.push(entry);
        return json({ ok: true });
      }
      case "GET /__fake/push/messages":
        return json(received);
      case "POST /__fake/push/reset":
        subscriptions = new Map();
        received = [];
        return json({ ok: true });
    }
    return json({ error: `no route ${req.method} ${path}` }, 404);
  };
}
