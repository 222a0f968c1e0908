// GET /shared/:token needs no sign-in, so its rate limit (rate_limit.shared) counts per client
// address, the platform's: a client that writes its own forwarding headers is still itself. Two
// ways in: through the gateway (every test connects from 127.0.0.1), and the function's own app
// in process against the stack's database, to be other clients.
import assert from "node:assert/strict";
import { dbUrl } from "../../local/config.ts";
import { withDb } from "../_support/chat.ts";
import { cfg, FUNCTIONS_URL } from "../_support/stack.ts";

const keyOf = async (address: string) =>
  Array.from(
    new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`client:${address}`)),
    ),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");

const counted = (address: string) =>
  keyOf(address).then((key) =>
    withDb((sql) =>
      sql`select coalesce(sum(count), 0)::int as n from private.client_rate_limit_counters
          where client_hash = ${key} and route_class = 'shared'`.then(([r]) => r.n as number)
    )
  );

const UNKNOWN_TOKEN = "A".repeat(43);

Deno.test("through the gateway, forwarding headers a client writes do not make it another client", async () => {
  const spoofed = ["192.0.2.10", "192.0.2.11", "192.0.2.12"];
  const before = await counted("127.0.0.1");
  for (const address of spoofed) {
    const res = await fetch(`${FUNCTIONS_URL}/shared/${UNKNOWN_TOKEN}`, {
      headers: { "x-forwarded-for": address, "cf-connecting-ip": address, "x-real-ip": address },
    });
    assert.equal(res.status, 404, await res.text());
  }
  assert.ok((await counted("127.0.0.1")) >= before + spoofed.length);
  for (const address of spoofed) assert.equal(await counted(address), 0, address);
});

Deno.test("past rate_limit.shared an address gets 429 rate_limited with Retry-After; another address does not", async () => {
  Deno.env.set("AIDE_DB_URL", dbUrl(cfg));
  const { app } = await import("../../supabase/functions/shared/app.ts");
  const { sql } = await import("../../supabase/functions/_shared/db.ts");
  try {
    const [{ value: limit }] = await withDb((db) =>
      db`select value from public.app_settings where key = 'rate_limit.shared'`
    );
    // A fixed window: start early in one so the burst cannot straddle two.
    const second = Math.floor(Date.now() / 1000) % limit.window_seconds;
    if (limit.window_seconds - second < 20) {
      await new Promise((r) => setTimeout(r, (limit.window_seconds - second + 1) * 1000));
    }
    const client = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const other = `203.0.113.${Math.floor(Math.random() * 250) + 1}`;
    const read = async (address: string) =>
      await app.request(`/shared/${UNKNOWN_TOKEN}`, { headers: { "cf-connecting-ip": address } });

    const statuses = await Promise.all(
      Array.from(
        { length: limit.requests },
        () => read(client).then((r) => (r.body?.cancel(), r.status)),
      ),
    );
    assert.deepEqual(new Set(statuses), new Set([404]));

    const refused = await read(client);
    assert.equal(refused.status, 429);
    const body = await refused.json();
    assert.equal(body.error.code, "rate_limited");
    const retryAfter = Number(refused.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= limit.window_seconds, `Retry-After ${retryAfter}`);
    assert.equal(body.error.details.retry_after_seconds, retryAfter);

    assert.equal((await read(other)).status, 404);
    assert.equal(await counted(client), limit.requests + 1);
    assert.equal(await counted(other), 1);
  } finally {
    await sql.end();
  }
});
