// GoTrue's rate limits, with config.toml's [auth.rate_limit] numbers: requests per IP address per
// 5 minutes for sign-in/sign-up, token refresh and verification, and mails sent by the whole
// project per hour. Fixed windows in memory: the Auth server is one process, as GoTrue is per
// project. The client address is the socket's, or X-Forwarded-For's first entry when present
// (the local gateway is the only hop, as Supabase's edge is on a hosted project).
import { AuthError } from "./errors.ts";

const windows = new Map<string, { start: number; count: number }>();

function take(key: string, max: number, windowMs: number): boolean {
  const now = Date.now();
  let w = windows.get(key);
  if (!w || now - w.start >= windowMs) {
    w = { start: now, count: 0 };
    windows.set(key, w);
  }
  if (w.count >= max) return false;
  w.count++;
  return true;
}

const FIVE_MINUTES = 5 * 60_000;

/** 429 over_request_rate_limit once this IP made `max` requests of `kind` in 5 minutes. */
export function limitRequests(kind: string, ip: string, max: number) {
  if (!take(`${kind}:${ip}`, max, FIVE_MINUTES)) {
    throw new AuthError(429, "over_request_rate_limit", "Request rate limit reached");
  }
}

/** 429 over_email_send_rate_limit once the project sent `perHour` mails this hour. */
export function limitEmailSent(perHour: number) {
  if (!take("email", perHour, 3_600_000)) {
    throw new AuthError(429, "over_email_send_rate_limit", "email rate limit exceeded");
  }
}

/** GoTrue's per-user spacing of mails of one kind (auth.email.max_frequency). */
export function limitFrequency(sentAt: Date | null, maxFrequencySeconds: number) {
  if (!sentAt) return;
  const left = sentAt.getTime() + maxFrequencySeconds * 1000 - Date.now();
  if (left > 0) {
    throw new AuthError(
      429,
      "over_email_send_rate_limit",
      `For security purposes, you can only request this after ${Math.ceil(left / 1000)} seconds.`,
    );
  }
}

export function clientIp(req: Request, info: Deno.ServeHandlerInfo): string {
  const forwarded = req.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || (info.remoteAddr as Deno.NetAddr).hostname;
}
