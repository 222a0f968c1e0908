// The functions remember the access tokens they verified (auth.ts), keyed by the whole token:
// another string (a forged signature) is verified again, and a remembered token stops working
// when it expires. Asked of the conversations worker directly over its socket: the local
// gateway checks tokens too (the platform's check) and would answer first.
import assert from "node:assert/strict";
import { join } from "node:path";
import { socketPath } from "../../local/functions/pool.ts";
import { issueUserToken } from "../../local/token.ts";
import { cfg } from "../_support/stack.ts";

const client = Deno.createHttpClient({
  proxy: { transport: "unix", path: socketPath(join(cfg.dir, "run"), "conversations") },
});
const list = async (token: string) => {
  const res = await fetch("http://function/conversations", {
    client,
    headers: { authorization: `Bearer ${token}` },
  });
  await res.body?.cancel();
  return res.status;
};

Deno.test("a verified token is remembered only as itself, and only until it expires", async () => {
  const email = `cache-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const { token } = await issueUserToken(cfg, email, { expiresIn: 3 });
  assert.equal(await list(token), 200);
  assert.equal(await list(token), 200); // remembered
  const [header, payload, signature] = token.split(".");
  const forged = `${header}.${payload}.${signature.slice(0, -4)}${
    signature.endsWith("AAAA") ? "BBBB" : "AAAA"
  }`;
  assert.equal(await list(forged), 401, "a forged signature passed");
  await new Promise((r) => setTimeout(r, 4_000));
  assert.equal(await list(token), 401, "an expired token still passed");
});
