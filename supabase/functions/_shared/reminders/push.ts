// Web Push with VAPID: npm:web-push encrypts the payload (aes128gcm, RFC 8291) and builds the
// request (generateRequestDetails), and we send it with fetch, so the same code reaches a real
// push service or the local fake. The VAPID JWT (RFC 8292) is signed once per push service
// origin and reused for 11 of its 12 hours, so a tick of thousands of pushes signs a few tokens.
//
// Answers: 201 (or any 2xx) sent; 404 or 410: the subscription is gone (the caller deletes it);
// 413, 400: our fault, failed; 429 and 5xx: failed for this send (the chain goes on to the next
// stage at its time; a push is never retried, so it is never shown twice).
import webpush from "web-push";

export interface VapidConfig {
  publicKey: string;
  privateKey: string;
  /** mailto: or https: contact the push service may use (RFC 8292 `sub`). */
  subject: string;
}

export function vapidConfig(env = Deno.env.toObject()): VapidConfig | null {
  if (!env.VAPID_PUBLIC_KEY || !env.VAPID_PRIVATE_KEY) return null;
  return {
    publicKey: env.VAPID_PUBLIC_KEY,
    privateKey: env.VAPID_PRIVATE_KEY,
    subject: env.VAPID_SUBJECT || "mailto:reminders@aide.invalid",
  };
}

/** A browser's PushSubscription.toJSON(), as stored in public.push_subscriptions. */
export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

// The push services browsers use. Only these (and origins the deployment adds with
// AIDE_PUSH_EXTRA_ORIGINS, e.g. the local fake) are accepted as endpoints: a subscription is a
// URL our function will POST to, so it must not point anywhere else.
const PUSH_SERVICE_HOSTS = [
  /^fcm\.googleapis\.com$/, // Chrome, Edge (Chromium), Opera, Samsung
  /^updates\.push\.services\.mozilla\.com$/, // Firefox
  /^web\.push\.apple\.com$/, // Safari
  /\.notify\.windows\.com$/, // legacy Edge, Windows
];

export function pushEndpointAllowed(endpoint: string, env = Deno.env.toObject()): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  const extra = (env.AIDE_PUSH_EXTRA_ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean);
  if (extra.includes(url.origin)) return true;
  return url.protocol === "https:" && !url.port && !url.username &&
    PUSH_SERVICE_HOSTS.some((host) => host.test(url.hostname));
}

const TOKEN_LIFETIME_S = 12 * 3600;
const TOKEN_REUSE_S = 11 * 3600;
const vapidTokens = new Map<string, { authorization: string; until: number }>();

function vapidAuthorization(cfg: VapidConfig, origin: string): string {
  const key = `${origin} ${cfg.publicKey} ${cfg.privateKey}`;
  const now = Math.floor(Date.now() / 1000);
  const hit = vapidTokens.get(key);
  if (hit && hit.until > now) return hit.authorization;
  const { Authorization } = webpush.getVapidHeaders(
    origin,
    cfg.subject,
    cfg.publicKey,
    cfg.privateKey,
    "aes128gcm",
    now + TOKEN_LIFETIME_S,
  ) as { Authorization: string };
  vapidTokens.set(key, { authorization: Authorization, until: now + TOKEN_REUSE_S });
  return Authorization;
}

export type PushOutcome =
  | { status: "sent"; location: string | null }
  | { status: "gone"; httpStatus: number }
  | { status: "failed"; error: string };

/** Encrypts `payload` for the subscription and sends it; never throws for an HTTP answer. */
export async function sendPush(
  cfg: VapidConfig,
  target: PushTarget,
  payload: unknown,
  opts: { ttlSeconds: number; topic?: string; urgency?: "normal" | "high" },
): Promise<PushOutcome> {
  const details = webpush.generateRequestDetails(
    { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
    JSON.stringify(payload),
    {
      vapidDetails: null, // the cached token below instead of a new signature per push
      headers: { Authorization: vapidAuthorization(cfg, new URL(target.endpoint).origin) },
      TTL: opts.ttlSeconds,
      contentEncoding: "aes128gcm",
      urgency: opts.urgency ?? "high",
      topic: opts.topic,
    },
  );
  const headers = new Headers();
  for (const [name, value] of Object.entries(details.headers)) headers.set(name, String(value));
  headers.delete("content-length"); // fetch sets it from the body
  let res: Response;
  try {
    res = await fetch(details.endpoint, {
      method: "POST",
      headers,
      body: details.body as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    return { status: "failed", error: `push service unreachable: ${e}` };
  }
  const text = await res.text().catch(() => "");
  if (res.ok) return { status: "sent", location: res.headers.get("location") };
  if (res.status === 404 || res.status === 410) return { status: "gone", httpStatus: res.status };
  return { status: "failed", error: `push service answered ${res.status}: ${text.slice(0, 200)}` };
}

/** A new VAPID key pair (npm run vapid). */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys();
}
