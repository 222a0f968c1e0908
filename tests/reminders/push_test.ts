// Web Push subscriptions: validated (a push service's https endpoint, keys of the right size),
// one per browser, deleted by the owner or when the push service answers 404 or 410.
import assert from "node:assert/strict";
import { call, connect, FUNCTIONS_URL, newUser } from "../_support/stack.ts";
import {
  fake,
  log,
  minutes,
  noonIn,
  person,
  PUSH,
  pushesTo,
  settled,
  subscribe,
  task,
  tick,
} from "./helpers.ts";

const sql = connect();
const opts = { sanitizeResources: false, sanitizeOps: false };
const post = (token: string, body: unknown) =>
  call(`${FUNCTIONS_URL}/push/subscriptions`, {
    method: "POST",
    token,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

Deno.test(
  "push subscriptions: only a push service's endpoint with valid keys is saved; bad input writes nothing",
  opts,
  async () => {
    const u = await newUser("push");
    const browser = await fake(PUSH, "POST", "/__fake/push/subscriptions");
    const bad = [
      { ...browser, endpoint: "https://evil.example.com/push/1" },
      { ...browser, endpoint: "http://fcm.googleapis.com/fcm/send/x" },
      { ...browser, endpoint: "https://fcm.googleapis.com:8443/fcm/send/x" },
      { ...browser, endpoint: "http://127.0.0.1:1/push/x" },
      { ...browser, keys: { ...browser.keys, p256dh: "short" } },
      { ...browser, keys: { ...browser.keys, auth: "A".repeat(40) } },
      { endpoint: browser.endpoint },
      { ...browser, extra: 1 },
    ];
    for (const body of bad) {
      const res = await post(u.token, body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.error.code, "invalid_request");
    }
    const [{ n }] =
      await sql`select count(*)::int as n from public.push_subscriptions where user_id = ${u.userId}`;
    assert.equal(n, 0);

    const real = { ...browser, endpoint: "https://fcm.googleapis.com/fcm/send/abc:123" };
    const ok = await post(u.token, real);
    assert.equal(ok.status, 201);
    assert.equal(ok.body.endpoint, real.endpoint);
    assert.equal("auth" in ok.body || "p256dh" in ok.body, false, "keys are not echoed");

    // The same browser signing in as someone else moves the subscription.
    const v = await newUser("push");
    assert.equal((await post(v.token, real)).status, 201);
    const owners =
      await sql`select user_id from public.push_subscriptions where endpoint = ${real.endpoint}`;
    assert.deepEqual(owners.map((r) => r.user_id), [v.userId]);

    const config = await call(`${FUNCTIONS_URL}/push/config`, { token: u.token });
    assert.match(config.body.vapid_public_key, /^[A-Za-z0-9_-]{87}$/);
  },
);

Deno.test(
  "push subscriptions: the owner deletes one; another user's is not found",
  opts,
  async () => {
    const u = await newUser("push");
    const v = await newUser("push");
    const s = await subscribe(u.token);
    const del = (token: string, id: string) =>
      call(`${FUNCTIONS_URL}/push/subscriptions/${id}`, { method: "DELETE", token });
    assert.equal((await del(v.token, s.id)).status, 404);
    assert.equal((await del(u.token, s.id)).status, 204);
    assert.equal((await del(u.token, s.id)).status, 404);
    assert.equal((await del(u.token, "not-a-uuid")).status, 400);
  },
);

Deno.test(
  "push: a 410 from the push service removes the subscription; other browsers still get it",
  opts,
  async () => {
    const p = await person(sql, { phone: false });
    const second = await subscribe(p.token);
    await fake(PUSH, "POST", "/__fake/push/script", { endpoint: p.endpoint, status: 410 });
    const start = noonIn(10);
    const id = await task(sql, p.id, start);
    await tick(sql, minutes(start, -10), [p]);
    const [row] = await settled(sql, id);
    assert.equal(row.status, "sent");
    const left = await sql`select endpoint from public.push_subscriptions where user_id = ${p.id}`;
    assert.deepEqual(left.map((r) => r.endpoint), [second.endpoint], "the expired one is gone");
    assert.equal((await pushesTo(second.endpoint)).length, 1);

    // Only an expired one (404 counts the same): skipped, and deleted.
    await fake(PUSH, "POST", "/__fake/push/script", { endpoint: second.endpoint, status: 404 });
    const id2 = await task(sql, p.id, start);
    await tick(sql, minutes(start, -10), [p]);
    const [row2] = await settled(sql, id2);
    assert.deepEqual([row2.status, row2.error], [
      "skipped",
      "every push subscription has expired (deleted)",
    ]);
    const [{ n }] =
      await sql`select count(*)::int as n from public.push_subscriptions where user_id = ${p.id}`;
    assert.equal(n, 0);
    assert.equal((await log(sql, id2)).length, 1);
  },
);
