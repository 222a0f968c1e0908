// Rate limits are counted in Postgres, atomically: concurrent requests from one user get exactly
// the configured number through, the rest 429 with Retry-After, and nothing of theirs is stored.
import assert from "node:assert/strict";
import { chatUser, marker, providerRequests, readSse, until, withDb } from "../_support/chat.ts";

/** Fixed one-minute windows: start a burst early in a minute so it cannot straddle two. */
async function earlyInAMinute() {
  const second = new Date().getUTCSeconds();
  if (second > 40) await new Promise((r) => setTimeout(r, (61 - second) * 1000));
}

const setLimits = (userId: string, limits: unknown) =>
  withDb((sql) =>
    sql`update public.profiles set rate_limits = ${sql.json(limits as never)} where id = ${userId}`
  );

Deno.test("30 concurrent chat sends with a limit of 20/min: exactly 20 proceed, 10 get 429 with Retry-After", async () => {
  const alice = await chatUser("burst");
  await setLimits(alice.userId, { chat: { requests: 20, window_seconds: 60 } });
  // Room for all 20 replies at once: here the rate limit is under test, not the stream cap.
  await withDb((sql) =>
    sql`update public.profiles set quotas = '{"streams": 30}' where id = ${alice.userId}`
  );
  const conversationId = await alice.createConversation();
  const tag = marker("burst");
  await earlyInAMinute();

  const responses = await Promise.all(
    Array.from(
      { length: 30 },
      (_, i) => alice.send(conversationId, { content: `${tag} question ${i}` }, "?stream=simple"),
    ),
  );
  const bodies = await Promise.all(
    responses.map(async (res) => ({
      status: res.status,
      retryAfter: res.headers.get("retry-after"),
      body: res.status === 200 ? await readSse(res) : await res.json(),
    })),
  );
  const ok = bodies.filter((b) => b.status === 200);
  const limited = bodies.filter((b) => b.status === 429);
  assert.equal(ok.length, 20, `statuses: ${bodies.map((b) => b.status).join(",")}`);
  assert.equal(limited.length, 10);
  for (const b of limited) {
    assert.equal(b.body.error.code, "rate_limited");
    const seconds = Number(b.retryAfter);
    assert.ok(
      Number.isInteger(seconds) && seconds >= 1 && seconds <= 60,
      `Retry-After: ${b.retryAfter}`,
    );
    assert.equal(b.body.error.details.retry_after_seconds, seconds);
  }

  // Only the 20 that went through reached the database and the provider.
  await withDb(async (sql) => {
    const [{ n }] =
      await sql`select count(*)::int as n from public.messages where conversation_id = ${conversationId} and role = 'user'`;
    assert.equal(n, 20);
    const [counter] =
      await sql`select count from public.rate_limit_counters where user_id = ${alice.userId} and route_class = 'chat'`;
    assert.equal(counter.count, 30);
  });
  assert.equal((await providerRequests("anthropic", tag)).length, 20);

  // Reads are never limited; the conversation still answers.
  assert.equal((await alice.api(`/conversations/${conversationId}`)).status, 200);
});

Deno.test("other writes are limited as class 'write', per user, with their own budget", async () => {
  const alice = await chatUser("writes");
  const bob = await chatUser("writes");
  await setLimits(alice.userId, { write: { requests: 3, window_seconds: 3600 } });
  for (let i = 0; i < 3; i++) {
    assert.equal(
      (await alice.api("/conversations", { method: "POST", json: { title: `c${i}` } })).status,
      201,
    );
  }
  const limited = await alice.api("/conversations", {
    method: "POST",
    json: { title: "one too many" },
  });
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, "rate_limited");
  const retryAfter = Number(limited.headers.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 3600);
  assert.equal(
    (await alice.api("/account/me", { method: "PATCH", json: { display_name: "A" } })).status,
    429,
  );
  // Reads go on, and the limit is Alice's alone.
  assert.equal((await alice.api("/conversations")).status, 200);
  assert.equal(
    (await bob.api("/conversations", { method: "POST", json: { title: "fine" } })).status,
    201,
  );

  const [{ n }] = await withDb((sql) =>
    sql`select count(*)::int as n from public.conversations where user_id = ${alice.userId}`
  );
  assert.equal(n, 3);
});

Deno.test("rate limit counters have a retention rule that purges old windows", async () => {
  const alice = await chatUser("retention");
  await withDb(async (sql) => {
    const [setting] =
      await sql`select value from public.app_settings where key = 'retention.rate_limits'`;
    assert.equal(setting.value, "1 day");
    const [{ exists }] =
      await sql`select to_regclass('private.retention_rules') is not null as exists`;
    if (!exists) return; // the scheduled-work migration is not there yet
    const [rule] = await sql`select time_column, window_setting from private.retention_rules
                             where name = 'rate_limits' and table_name = 'public.rate_limit_counters'::regclass`;
    assert.deepEqual({ ...rule }, {
      time_column: "window_start",
      window_setting: "retention.rate_limits",
    });

    await sql`insert into public.rate_limit_counters (user_id, route_class, window_start, count)
              values (${alice.userId}, 'chat', now() - interval '3 days', 5),
                     (${alice.userId}, 'write', date_trunc('minute', now()), 1)`;
    // null: another run holds the rule right now; try again.
    await until("a purge batch", async () => {
      const [{ n }] = await sql`select private.purge_batch('rate_limits') as n`;
      return n !== null;
    });
    const left =
      await sql`select route_class from public.rate_limit_counters where user_id = ${alice.userId}`;
    assert.deepEqual(left.map((r) => r.route_class), ["write"]);
  });
});
