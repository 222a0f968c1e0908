// Signing in through the stack's Auth server (/auth/v1) with supabase-js itself, as an app does.
// Each client has its own in-memory session storage and its own client address (a unique
// X-Forwarded-For), so GoTrue's per-IP rate limits count each test on its own.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import postgres from "postgres";
import { dbUrl } from "../../local/config.ts";
import { cfg, env } from "./stack.ts";

export const AUTH_URL = `${env.SUPABASE_URL}/auth/v1`;

export function memoryStorage() {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

let ipCounter = 0;
/** A made-up client address, unique to this test process. */
export const testIp = () =>
  `10.${Deno.pid % 250}.${Math.floor(++ipCounter / 250) % 250}.${ipCounter % 250}`;

export function authClient(
  opts: { flowType?: "implicit" | "pkce"; key?: string; ip?: string } = {},
): SupabaseClient {
  return createClient(env.SUPABASE_URL, opts.key ?? env.SUPABASE_ANON_KEY, {
    auth: {
      storage: memoryStorage(),
      // Its own key: clients with one key talk to each other (BroadcastChannel), as tabs do.
      storageKey: `sb-test-${crypto.randomUUID()}`,
      persistSession: true,
      autoRefreshToken: false,
      detectSessionInUrl: false,
      flowType: opts.flowType ?? "implicit",
    },
    global: { headers: { "x-forwarded-for": opts.ip ?? testIp() } },
  });
}

export const newEmail = (prefix = "auth") =>
  `${prefix}-${crypto.randomUUID().slice(0, 8)}@example.com`;

export interface CaughtMail {
  to: string;
  kind: string;
  subject: string;
  text: string;
  html: string;
  link: string;
  otp: string;
}

/** The mails the catcher holds for an address, oldest first. */
export async function mailsTo(email: string): Promise<CaughtMail[]> {
  const res = await fetch(`${AUTH_URL}/_mail?to=${encodeURIComponent(email)}`);
  return (await res.json()).mails;
}

/** The newest mail to an address, waiting briefly for it. */
export async function lastMail(email: string, count = 1): Promise<CaughtMail> {
  for (let i = 0; i < 50; i++) {
    const mails = await mailsTo(email);
    if (mails.length >= count) return mails.at(-1)!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${email}`);
}

/** Follows a mail's link as a browser would; returns where Auth sent the browser. */
export async function followLink(link: string): Promise<URL> {
  const res = await fetch(link, { redirect: "manual" });
  await res.body?.cancel();
  if (res.status !== 303) throw new Error(`the link answered ${res.status}`);
  return new URL(res.headers.get("location")!);
}

/** The session in a redirect's fragment (implicit flow). */
export function fragmentSession(url: URL) {
  const p = new URLSearchParams(url.hash.slice(1));
  return Object.fromEntries(p) as Record<string, string>;
}

/**
 * Runs `fn` with the email-domain allowlist set to `domains`, restoring it afterwards; tests
 * that change the allowlist take the same advisory lock, so they never overlap.
 */
export async function withAllowlist<T>(domains: string[], fn: () => Promise<T>): Promise<T> {
  const sql = postgres(dbUrl(cfg), { max: 1, onnotice: () => {} });
  try {
    await sql`select pg_advisory_lock(hashtext('aide:tests:allowlist'))`;
    const [{ value }] = await sql`select value from public.app_settings
                                  where key = 'auth.allowed_email_domains'`;
    await sql`update public.app_settings set value = ${sql.json(domains)}
              where key = 'auth.allowed_email_domains'`;
    try {
      return await fn();
    } finally {
      await sql`update public.app_settings set value = ${sql.json(value)}
                where key = 'auth.allowed_email_domains'`;
      await sql`select pg_advisory_unlock(hashtext('aide:tests:allowlist'))`;
    }
  } finally {
    await sql.end();
  }
}
