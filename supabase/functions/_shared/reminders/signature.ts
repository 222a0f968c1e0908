// X-Twilio-Signature: base64 HMAC-SHA1, keyed with the account's auth token, over the full URL
// Twilio called (query string included) followed by every POST parameter sorted by name, each as
// name then value with no separator. The URL is the public one Twilio was configured with
// (AIDE_PUBLIC_URL + the route's path), never the one the function sees behind the gateway;
// Twilio may or may not include an explicit :443, so both spellings are accepted.
import { constantTimeEqual } from "../secrets.ts";

const encoder = new TextEncoder();

/** The string Twilio signs: the URL, then name+value of each parameter in name order. */
export function signedString(url: string, params: Iterable<[string, string]>): string {
  const sorted = [...params].sort(([a, av], [b, bv]) =>
    a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0
  );
  return url + sorted.map(([name, value]) => name + value).join("");
}

/** The X-Twilio-Signature value for a request to `url` with these form parameters. */
export async function twilioSignature(
  authToken: string,
  url: string,
  params: Iterable<[string, string]>,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(authToken),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(signedString(url, params)));
  return btoa(String.fromCharCode(...new Uint8Array(mac)));
}

/** The URL with and without an explicit default port (Twilio signs whichever it was given). */
export function urlVariants(url: string): string[] {
  const u = new URL(url);
  const defaultPort = u.protocol === "https:" ? "443" : u.protocol === "http:" ? "80" : "";
  if (u.port && u.port !== defaultPort) return [url];
  const rest = u.pathname + u.search;
  const bare = `${u.protocol}//${u.hostname}${rest}`;
  const withPort = `${u.protocol}//${u.hostname}:${defaultPort}${rest}`;
  return [bare, withPort];
}

/**
 * True when `signature` is Twilio's signature of a form POST to `publicUrl` with `rawBody`
 * (application/x-www-form-urlencoded bytes, as received). Compared in constant time.
 */
export async function verifyTwilioSignature(opts: {
  authToken: string;
  publicUrl: string;
  rawBody: Uint8Array;
  signature: string | null | undefined;
}): Promise<boolean> {
  if (!opts.signature || !opts.authToken) return false;
  const params = [...new URLSearchParams(new TextDecoder().decode(opts.rawBody))];
  let ok = false;
  for (const url of urlVariants(opts.publicUrl)) {
    const expected = await twilioSignature(opts.authToken, url, params);
    // Every variant is checked (no early exit), so timing does not tell which one matched.
    ok = (await constantTimeEqual(expected, opts.signature)) || ok;
  }
  return ok;
}
