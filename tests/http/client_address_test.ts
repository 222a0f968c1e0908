// The client address public routes are rate limited by (supabase/functions/_shared/client_address.ts):
// only the headers the platform sets count, IPv6 by its /64. In process, no stack needed.
import assert from "node:assert/strict";
import { clientAddress, clientKey } from "../../supabase/functions/_shared/client_address.ts";

const address = (headers: Record<string, string>) => clientAddress(new Headers(headers));

Deno.test("the platform's headers name the client; x-forwarded-for, which clients write, never does", () => {
  assert.equal(
    address({ "cf-connecting-ip": "203.0.113.7", "x-real-ip": "10.0.0.1" }),
    "203.0.113.7",
  );
  assert.equal(address({ "x-real-ip": "198.51.100.2" }), "198.51.100.2");
  assert.equal(address({ "x-forwarded-for": "192.0.2.9" }), "unknown");
  assert.equal(address({}), "unknown");
});

Deno.test("an IPv6 client is its /64 network, however the address is written", () => {
  const network = "2001:db8:85a3:8d3::/64";
  for (
    const written of [
      "2001:db8:85a3:8d3:1319:8a2e:370:7348",
      "2001:0DB8:85A3:08D3::1",
      "2001:db8:85a3:8d3::",
      "2001:db8:85a3:8d3:ffff::1%eth0",
    ]
  ) assert.equal(address({ "cf-connecting-ip": written }), network, written);
  assert.equal(address({ "cf-connecting-ip": "::1" }), "0:0:0:0::/64");
  assert.equal(address({ "cf-connecting-ip": "2001:db8::1" }), "2001:db8:0:0::/64");
});

Deno.test("the stored key is a hash: equal for one client, different for another", async () => {
  const key = await clientKey(new Headers({ "cf-connecting-ip": "203.0.113.7" }));
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.ok(!key.includes("203"));
  assert.equal(key, await clientKey(new Headers({ "x-real-ip": "203.0.113.7" })));
  assert.notEqual(key, await clientKey(new Headers({ "cf-connecting-ip": "203.0.113.8" })));
});
