// Who is calling a public route, when there is no user: the client's address as the platform
// passes it, for per-client rate limits.
//
// On a hosted project, requests reach a function through Cloudflare and Supabase's API
// gateway. Cloudflare sets `cf-connecting-ip` to the address that connected to it, replacing
// any value the client sent; the gateway sets `x-real-ip`. `x-forwarded-for` is not used: its
// first entries are whatever the client wrote. The local gateway (local/gateway.ts) sets both
// headers from the socket the same way. Without either (a function called some other way) every
// such caller shares one address, "unknown": limited together, never unlimited.
import { sha256Hex } from "./inbox/refs.ts";

const TRUSTED_HEADERS = ["cf-connecting-ip", "x-real-ip"];

/**
 * The client's address: IPv4 as is, IPv6 cut to its /64 (one subscriber's network, which
 * hands out addresses at will), lower-cased; "unknown" when the platform gave none.
 */
export function clientAddress(headers: Headers): string {
  for (const name of TRUSTED_HEADERS) {
    const value = headers.get(name)?.trim();
    if (value) return value.includes(":") ? ipv6Network(value) : value;
  }
  return "unknown";
}

/** The first four groups of an IPv6 address, "::" expanded: its /64 network. */
function ipv6Network(address: string): string {
  const [head, tail] = address.toLowerCase().replace(/%.*$/, "").split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined
    ? left
    : [...left, ...Array(Math.max(8 - left.length - right.length, 0)).fill("0"), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

/** What the counters store: a hash of the address, never the address itself. */
export const clientKey = (headers: Headers) => sha256Hex(`client:${clientAddress(headers)}`);
