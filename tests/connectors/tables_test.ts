// The inbox tables as other modules and scripts use them (seed 004 4.1): defaults, uniqueness,
// expiry from inbox.retention, people merged across sources, and indexing through the ingestion
// job path (index_jobs -> pg_net -> ingest -> search_index), with deletion taking index rows along.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { call, connect, FUNCTIONS_URL, newUser, rest, until } from "../_support/stack.ts";
import { marker } from "../_support/chat.ts";
import { runJob } from "../scheduled/helpers.ts";

Deno.test("events: defaults, expiry from inbox.retention, unique per user, source and external id", async () => {
  const sql = connect();
  try {
    const user = await newUser("tables");
    const external = marker("C1:1700000000.000100");
    const [e] = await sql`
      insert into public.events (user_id, source, external_id, event_type, body, occurred_at)
      values (${user.userId}, 'slack', ${external}, 'message', 'hello there', now() - interval '1 hour')
      returning content_hash, importance_score, raw, expires_at - created_at as ttl, created_at, updated_at`;
    assert.equal(e.importance_score, 0);
    assert.deepEqual(e.raw, {});
    assert.match(e.content_hash, /^[0-9a-f]{64}$/);
    const [setting] = await sql`select (value #>> '{}')::interval as ttl from public.app_settings
                                where key = 'inbox.retention'`;
    assert.equal(e.ttl, setting.ttl);
    assert.equal(e.ttl, "30 days");
    await assert.rejects(
      sql`insert into public.events (user_id, source, external_id, event_type, occurred_at)
          values (${user.userId}, 'slack', ${external}, 'message', now())`,
      /events_user_id_source_external_id_key/,
    );
    // Another user may hold the same external id (two Aide users in one workspace).
    const other = await newUser("tables");
    await sql`insert into public.events (user_id, source, external_id, event_type, occurred_at)
              values (${other.userId}, 'slack', ${external}, 'message', now())`;
  } finally {
    await sql.end();
  }
});

Deno.test("entities: the same person from Slack, Outlook and Telegram becomes one entity with every alias", async () => {
  const sql = connect();
  try {
    const user = await newUser("tables");
    const merge = (name: string | null, aliases: string[], meta: Record<string, unknown>) =>
      sql`select private.merge_person(${user.userId}, ${name}, ${aliases}, ${
        sql.json(meta as never)
      }) as id`
        .then(([r]) => r.id as string);
    const slack = await merge("Dana Scully", [
      "slack:T1:U1",
      "email:Dana@Example.com",
      "handle:dana",
    ], { slack: "U1" });
    const telegram = await merge("Dana", ["telegram:42", "handle:dana2"], { telegram: 42 });
    assert.notEqual(slack, telegram, "nothing in common yet: two people");
    // A mail from dana@example.com whose Telegram username is dana2: all three are one person.
    const bridged = await merge("dana@example.com", ["email:dana@example.com", "handle:dana2"], {
      outlook: true,
    });
    assert.equal(bridged, slack, "the oldest entity survives");
    const rows =
      await sql`select id, name, aliases, metadata from public.entities where user_id = ${user.userId}`;
    assert.equal(rows.length, 1);
    assert.equal(rows[0].name, "Dana Scully");
    assert.deepEqual(rows[0].aliases.sort(), [
      "email:dana@example.com",
      "handle:dana",
      "handle:dana2",
      "slack:t1:u1",
      "telegram:42",
    ]);
    assert.deepEqual(rows[0].metadata, { slack: "U1", telegram: 42, outlook: true });
  } finally {
    await sql.end();
  }
});

Deno.test("events and notes are indexed through the ingestion job path, and leave the index when deleted", async () => {
  const sql = connect();
  try {
    const user = await newUser("tables");
    const word = marker("zebrafish").replace(/[^a-z0-9]/gi, "");
    const [e] = await sql`
      insert into public.events (user_id, source, external_id, event_type, title, body, occurred_at)
      values (${user.userId}, 'outlook', ${
      marker("msg")
    }, 'email', 'Budget', ${`the ${word} budget is due`},
              '2026-11-30T10:00:00Z')
      returning id, expires_at`;
    const [n] = await sql`insert into public.notes (user_id, title, body)
                          values (${user.userId}, 'Idea', ${`a note about ${word}`}) returning id`;
    const indexed = await until("both indexed", async () => {
      const rows =
        await sql`select object_type, object_id, source, occurred_at, expires_at from public.search_index
                             where owner_id = ${user.userId} order by object_type`;
      return rows.length === 2 ? rows : null;
    }, 20_000);
    assert.equal(indexed[0].object_type, "event");
    assert.equal(indexed[0].source, "outlook");
    assert.equal(indexed[0].occurred_at.toISOString(), "2026-11-30T10:00:00.000Z");
    assert.equal(indexed[0].expires_at.getTime(), e.expires_at.getTime());
    assert.equal(indexed[1].object_type, "note");
    const [job] =
      await sql`select status, attempts from public.index_jobs where object_id = ${e.id}`;
    assert.deepEqual({ ...job }, { status: "done", attempts: 1 });

    // The owner finds both through hybrid_search, filtered by source and time.
    const found = await rest(user.token, "/rpc/hybrid_search", {
      method: "POST",
      body: JSON.stringify({
        query_text: word,
        query_embedding: `[${Array(1536).fill(0.01).join(",")}]`,
        sources: ["outlook"],
        occurred_from: "2026-11-30T00:00:00Z",
      }),
    });
    assert.equal(found.status, 200, found.text);
    assert.deepEqual(found.body.map((r: { object_id: string }) => r.object_id), [e.id]);

    // Unchanged content is not embedded again; deleting removes the index rows at once.
    await sql`update public.events set importance_score = 50 where id = ${e.id}`;
    const [again] = await sql`select attempts from public.index_jobs where object_id = ${e.id}`;
    assert.equal(again.attempts, 1);
    const del = await rest(user.token, `/events?id=eq.${e.id}`, { method: "DELETE" });
    assert.equal(del.status, 200);
    await sql`delete from public.notes where id = ${n.id}`;
    const [left] =
      await sql`select count(*)::int as n from public.search_index where owner_id = ${user.userId}`;
    assert.equal(left.n, 0);
    const [jobs] =
      await sql`select count(*)::int as n from public.index_jobs where owner_id = ${user.userId}`;
    assert.equal(jobs.n, 0);
  } finally {
    await sql.end();
  }
});

Deno.test("retention: expired events are purged with their index rows; live ones stay", async () => {
  const sql = connect();
  try {
    const user = await newUser("tables");
    const [old] = await sql`
      insert into public.events (user_id, source, external_id, event_type, body, occurred_at, expires_at)
      values (${user.userId}, 'telegram', ${
      marker("1:1")
    }, 'message', 'old news', now() - interval '40 days',
              now() - interval '2 days') returning id`;
    const [live] = await sql`
      insert into public.events (user_id, source, external_id, event_type, body, occurred_at)
      values (${user.userId}, 'telegram', ${
      marker("1:2")
    }, 'message', 'fresh news', now()) returning id`;
    await until("both indexed", async () => {
      const [r] =
        await sql`select count(*)::int as n from public.search_index where owner_id = ${user.userId}`;
      return r.n === 2;
    }, 20_000);
    await runJob(sql, "retention", { steps: ["inbox_events"] });
    const events = await sql`select id from public.events where user_id = ${user.userId}`;
    assert.deepEqual(events.map((r) => r.id), [live.id]);
    const index =
      await sql`select object_id from public.search_index where owner_id = ${user.userId}`;
    assert.deepEqual(index.map((r) => r.object_id), [live.id]);
    assert.notEqual(old.id, live.id);
  } finally {
    await sql.end();
  }
});

Deno.test("events: expires_at follows the inbox.retention setting at ingestion; raw is bounded by inbox.raw_max_bytes", async () => {
  const sql = connect();
  try {
    const user = await newUser("tables");
    const [{ ttl }] = await sql`
      select private.interval_setting('inbox.retention') as ttl`;
    const [e] = await sql`
      insert into public.events (user_id, source, external_id, event_type, occurred_at)
      values (${user.userId}, 'slack', ${marker("C:ttl")}, 'message', now())
      returning expires_at - created_at as ttl`;
    assert.equal(e.ttl, ttl);
    // An explicit expires_at (a script importing old mail, say) is kept.
    const [explicit] = await sql`
      insert into public.events (user_id, source, external_id, event_type, occurred_at, expires_at)
      values (${user.userId}, 'outlook', ${marker("m")}, 'email', now(), '2030-01-01T00:00:00Z')
      returning expires_at`;
    assert.equal(explicit.expires_at.toISOString(), "2030-01-01T00:00:00.000Z");

    const small = { type: "message", ts: "1.2", text: "hi" };
    const [kept] = await sql`select private.bounded_raw(${sql.json(small)}) as raw`;
    assert.deepEqual(kept.raw, small);
    const big = {
      type: "message",
      ts: "1.2",
      channel_id: "C1",
      text: "x".repeat(40_000),
      blocks: [{ a: 1 }],
    };
    const [cut] = await sql`select private.bounded_raw(${sql.json(big)}) as raw`;
    assert.deepEqual(cut.raw, { type: "message", ts: "1.2", channel_id: "C1", truncated: true });
  } finally {
    await sql.end();
  }
});

Deno.test("retention: expired OAuth states and old webhook delivery ids are purged; an expired state is refused", async () => {
  const sql = connect();
  try {
    const user = await newUser("tables");
    const stale = marker("stale");
    const live = marker("live");
    await sql`insert into private.connector_states (state_hash, user_id, purpose, expires_at) values
                (${stale}, ${user.userId}, 'slack_oauth', now() - interval '2 days'),
                (${live}, ${user.userId}, 'slack_oauth', now() + interval '10 minutes')`;
    const oldDelivery = marker("Ev");
    const newDelivery = marker("Ev");
    await sql`insert into private.webhook_deliveries (provider, delivery_id, received_at) values
                ('slack', ${oldDelivery}, now() - interval '8 days'), ('slack', ${newDelivery}, now())`;
    await runJob(sql, "retention", { steps: ["connector_states", "webhook_deliveries"] });
    const states =
      await sql`select state_hash from private.connector_states where user_id = ${user.userId}`;
    assert.deepEqual(states.map((r) => r.state_hash), [live]);
    const deliveries = await sql`select delivery_id from private.webhook_deliveries
                                 where delivery_id in (${oldDelivery}, ${newDelivery})`;
    assert.deepEqual(deliveries.map((r) => r.delivery_id), [newDelivery]);

    // A state past its ten minutes, not yet purged, does not connect anything.
    const token = marker("expired-state-token");
    const hash = createHash("sha256").update(token).digest("hex");
    await sql`insert into private.connector_states (state_hash, user_id, purpose, expires_at)
              values (${hash}, ${user.userId}, 'slack_oauth', now() - interval '1 minute')`;
    const res = await call(
      `${FUNCTIONS_URL}/connectors/slack/oauth/callback?code=x&state=${token}`,
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "invalid_state");
    const [gone] =
      await sql`select count(*)::int as n from private.connector_states where state_hash = ${hash}`;
    assert.equal(gone.n, 0, "used up all the same");
  } finally {
    await sql.end();
  }
});
