// The Auth server's settings, read from supabase/config.toml's [auth] tables: the same file the
// Supabase CLI reads for `supabase start` and pushes to a hosted project with `supabase config push`.
import { parse } from "smol-toml";

export interface AuthConfig {
  siteUrl: string;
  /** Where redirect_to may point: site_url and these (globs with * and **, as GoTrue allows). */
  additionalRedirectUrls: string[];
  enableSignup: boolean;
  enableConfirmations: boolean;
  /** Access token lifetime, seconds. */
  jwtExpiry: number;
  refreshTokenRotation: boolean;
  /** Seconds a rotated refresh token may still be used (a client that lost the new one). */
  refreshTokenReuseInterval: number;
  minimumPasswordLength: number;
  /** Least seconds between two mails of one kind to one user (auth.email.max_frequency). */
  mailMaxFrequency: number;
  otpLength: number;
  /** Seconds an emailed link or code stays valid. */
  otpExpiry: number;
  rateLimits: {
    /** Mails sent by the whole project per hour. */
    emailSent: number;
    /** Per IP address, per 5 minutes. */
    signInSignUps: number;
    tokenRefresh: number;
    tokenVerifications: number;
  };
  hooks: {
    /** `schema.function` of a pg-functions:// hook, when enabled. */
    beforeUserCreated?: string;
    customAccessToken?: string;
  };
}

type Table = Record<string, unknown>;

/** Seconds in a duration such as "1s", "5m" or "1h" (the CLI's Go duration strings). */
function seconds(value: unknown, fallback: number): number {
  if (typeof value === "number") return value;
  const m = typeof value === "string" ? value.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)$/) : null;
  if (!m) return fallback;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as "s"];
}

/** `public.fn` from `pg-functions://postgres/public/fn`; other hook kinds are not run locally. */
function pgFunctionHook(hook: unknown): string | undefined {
  const h = (hook ?? {}) as Table;
  if (h.enabled !== true || typeof h.uri !== "string") return undefined;
  const m = h.uri.match(/^pg-functions:\/\/[^/]+\/([A-Za-z_][\w]*)\/([A-Za-z_][\w]*)$/);
  if (!m) throw new Error(`auth hook uri ${h.uri}: only pg-functions:// hooks run locally`);
  return `${m[1]}.${m[2]}`;
}

export function readAuthConfig(tomlText: string): AuthConfig {
  const auth = ((parse(tomlText) as Table).auth ?? {}) as Table;
  const email = (auth.email ?? {}) as Table;
  const limits = (auth.rate_limit ?? {}) as Table;
  const hook = (auth.hook ?? {}) as Table;
  const num = (t: Table, key: string, fallback: number) =>
    typeof t[key] === "number" ? t[key] as number : fallback;
  return {
    siteUrl: String(auth.site_url ?? "http://127.0.0.1:3000"),
    additionalRedirectUrls: (auth.additional_redirect_urls as string[] | undefined) ?? [],
    enableSignup: auth.enable_signup !== false,
    enableConfirmations: email.enable_confirmations === true,
    jwtExpiry: num(auth, "jwt_expiry", 3600),
    refreshTokenRotation: auth.enable_refresh_token_rotation !== false,
    refreshTokenReuseInterval: num(auth, "refresh_token_reuse_interval", 10),
    minimumPasswordLength: num(auth, "minimum_password_length", 6),
    mailMaxFrequency: seconds(email.max_frequency, 60),
    otpLength: num(email, "otp_length", 6),
    otpExpiry: num(email, "otp_expiry", 3600),
    // GoTrue's defaults where config.toml says nothing.
    rateLimits: {
      emailSent: num(limits, "email_sent", 30),
      signInSignUps: num(limits, "sign_in_sign_ups", 30),
      tokenRefresh: num(limits, "token_refresh", 150),
      tokenVerifications: num(limits, "token_verifications", 30),
    },
    hooks: {
      beforeUserCreated: pgFunctionHook(hook.before_user_created),
      customAccessToken: pgFunctionHook(hook.custom_access_token),
    },
  };
}

/**
 * Whether redirect_to may be used, as GoTrue decides: the site's own scheme and host (any port
 * on localhost), any loopback IP address, or a match of an additional_redirect_urls glob (`*`
 * stops at `.` and `/`, `**` does not). Anything else is replaced by site_url, not refused.
 */
export function redirectAllowed(cfg: AuthConfig, url: string): boolean {
  let target: URL, site: URL;
  try {
    target = new URL(url);
    site = new URL(cfg.siteUrl);
  } catch {
    return false;
  }
  const loopback = /^(localhost|127(\.\d+){3}|\[::1\])$/.test(target.hostname);
  if (
    target.hostname === site.hostname && target.protocol === site.protocol &&
    (target.port === site.port || loopback)
  ) return true;
  if (/^(127(\.\d+){3}|\[::1\])$/.test(target.hostname)) return true;
  const href = url.split("#")[0];
  return cfg.additionalRedirectUrls.some((pattern) => globRegExp(pattern).test(href));
}

function globRegExp(pattern: string): RegExp {
  const parts = pattern.split("**").map((part) =>
    part.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^./]*")
  );
  return new RegExp("^" + parts.join(".*") + "$");
}
