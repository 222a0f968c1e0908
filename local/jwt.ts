// ES256 signing keys and JWTs for the local stack, with WebCrypto only. Supabase projects
// sign user tokens with an asymmetric key and publish the public half as a JWKS; the local
// stack does the same so that supabase-js getClaims(), @supabase/server and PostgREST verify
// tokens exactly as they would against a hosted project.

export type Jwk = JsonWebKey & { kid?: string; use?: string };

export interface SigningKeys {
  kid: string;
  privateJwk: Jwk;
  publicJwk: Jwk;
}

const ES256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const encoder = new TextEncoder();

export function base64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
  let binary = "";
  for (const b of raw) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export async function generateSigningKeys(): Promise<SigningKeys> {
  const pair = await crypto.subtle.generateKey(ES256, true, ["sign", "verify"]);
  const kid = crypto.randomUUID();
  const privateJwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const { x, y, crv, kty } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const publicJwk = { kty, crv, x, y, kid, alg: "ES256", use: "sig", key_ops: ["verify"] };
  return { kid, privateJwk: { ...privateJwk, kid, alg: "ES256" }, publicJwk };
}

export function jwks(keys: SigningKeys): { keys: Jwk[] } {
  return { keys: [keys.publicJwk] };
}

export async function signJwt(
  claims: Record<string, unknown>,
  keys: SigningKeys,
): Promise<string> {
  const header = base64url(JSON.stringify({ alg: "ES256", typ: "JWT", kid: keys.kid }));
  const body = base64url(JSON.stringify(claims));
  const { kid: _kid, alg: _alg, ...jwk } = keys.privateJwk;
  const key = await crypto.subtle.importKey("jwk", jwk, ES256, false, ["sign"]);
  // WebCrypto's ECDSA signature is r||s, which is exactly JWS's ES256 format.
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    key,
    encoder.encode(`${header}.${body}`),
  );
  return `${header}.${body}.${base64url(new Uint8Array(signature))}`;
}

const verifyKeys = new WeakMap<Jwk, Promise<CryptoKey>>();

function verifyKey(publicJwk: Jwk): Promise<CryptoKey> {
  let key = verifyKeys.get(publicJwk);
  if (!key) {
    const { x, y, crv, kty } = publicJwk;
    key = crypto.subtle.importKey("jwk", { x, y, crv, kty }, ES256, false, ["verify"]);
    verifyKeys.set(publicJwk, key);
  }
  return key;
}

/** Returns the claims of a token signed with `publicJwk`'s key that has not expired, or null. */
export async function verifyJwt(
  token: string,
  publicJwk: Jwk,
): Promise<Record<string, unknown> | null> {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(new TextDecoder().decode(fromBase64url(parts[0])));
    if (header.alg !== "ES256" || header.kid !== publicJwk.kid) return null;
    const ok = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      await verifyKey(publicJwk),
      fromBase64url(parts[2]),
      encoder.encode(`${parts[0]}.${parts[1]}`),
    );
    if (!ok) return null;
    const claims = JSON.parse(new TextDecoder().decode(fromBase64url(parts[1])));
    if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) return null;
    return claims;
  } catch {
    return null;
  }
}

const TEN_YEARS = 10 * 365 * 24 * 3600;

/** The project's API keys: long-lived JWTs whose only claim that matters is the role. */
export function apiKey(role: "anon" | "service_role", issuer: string, keys: SigningKeys) {
  const iat = Math.floor(Date.now() / 1000);
  return signJwt({ iss: issuer, role, iat, exp: iat + TEN_YEARS }, keys);
}
