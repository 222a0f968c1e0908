// Recovery: replies whose generator died (no heartbeat past the platform's wall-clock limit)
// end as errors of type "interrupted", their partial text kept; live replies are left alone.
import assert from "node:assert/strict";
import { call, FUNCTIONS_URL, newUser } from "../_support/stack.ts";
import { connect, exclusiveSession, ledgerRows, records, runJob, type Sql } from "./helpers.ts";

/** A conversation whose active leaf is an assistant reply in `status`, last updated `idle` ago. */
async function replyInProgress(
  sql: Sql,
  userId: string,
  status: "pending" | "streaming",
  idle: string,
  text = "",
) {
  const [c] = await sql`insert into public.conversations (user_id, title, model)
                        values (${userId}, 'recovery test', 'gpt-5.2') returning id`;
  const [q] = await sql`insert into public.messages (conversation_id, user_id, role, content, parts)
                        values (${c.id}, ${userId}, 'user', 'Tell me a story',
                                '[{"type": "text", "text": "Tell me a story"}]') returning id`;
  const parts = text ? [{ type: "text", text }] : [];
  const [m] = await sql`
    insert into public.messages (conversation_id, user_id, parent_id, role, status, model, content,
                                 parts, created_at, updated_at)
    values (${c.id}, ${userId}, ${q.id}, 'assistant', ${status}, 'gpt-5.2', ${text},
            ${sql.json(parts)}, now() - ${idle}::interval - interval '30 seconds',
            now() - ${idle}::interval)
    returning id`;
  await sql`update public.conversations set active_leaf_id = ${m.id} where id = ${c.id}`;
  return { conversationId: c.id as string, messageId: m.id as string };
}

Deno.test("a stuck reply is recovered as interrupted, visible to its owner; a live one is not", async () => {
  const sql = connect();
  const user = await newUser("recovery");
  const held = await exclusiveSession(sql, "recovery", ["stuck_messages"]);
  try {
    const [limit] = await sql`select value from public.app_settings
                              where key = 'platform.wall_clock_limit'`;
    assert.equal(limit.value, "400 seconds");
    const streaming = await replyInProgress(
      sql,
      user.userId,
      "streaming",
      "410 seconds",
      "Once upon a",
    );
    const pending = await replyInProgress(sql, user.userId, "pending", "20 minutes");
    const live = await replyInProgress(sql, user.userId, "streaming", "1 second", "Still going");
    // The stuck reply's provider calls so far: its totals are summed from the ledger.
    await ledgerRows(sql, user.userId, 2, "7 minutes", {
      conversationId: streaming.conversationId,
      messageId: streaming.messageId,
    });

    const runId = await runJob(held.session, "recovery", { steps: ["stuck_messages"] });
    const rec = await records(sql, runId);
    assert.equal(rec.stuck_messages.status, "done");
    assert.ok(rec.stuck_messages.rows >= 2, `recovered ${rec.stuck_messages.rows}`);

    const rows = await sql`select id, status, error_type, finish_reason, content, parts,
                                  input_tokens, output_tokens, completed_at, latency_ms
                           from public.messages
                           where id in (${streaming.messageId}, ${pending.messageId}, ${live.messageId})`;
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    const s = byId[streaming.messageId];
    assert.equal(s.status, "error");
    assert.equal(s.error_type, "interrupted");
    assert.equal(s.finish_reason, "error");
    assert.equal(s.content, "Once upon a", "the partial text is kept");
    assert.deepEqual(s.parts.map((p: { type: string }) => p.type), ["text", "error"]);
    assert.equal(s.parts[1].code, "interrupted");
    assert.ok(s.completed_at);
    assert.deepEqual([s.input_tokens, s.output_tokens], [20, 40]);
    assert.equal(s.latency_ms, 30_000, "latency runs until the last sign of life");
    assert.equal(byId[pending.messageId].status, "error");
    assert.equal(byId[pending.messageId].error_type, "interrupted");
    assert.equal(byId[live.messageId].status, "streaming", "a live reply was recovered");
    assert.equal(byId[live.messageId].error_type, null);

    // The owner sees it through the API.
    const res = await call(`${FUNCTIONS_URL}/conversations/${streaming.conversationId}`, {
      token: user.token,
    });
    assert.equal(res.status, 200, res.text);
    const reply = res.body.messages.at(-1);
    assert.equal(reply.id, streaming.messageId);
    assert.equal(reply.status, "error");
    assert.equal(reply.error.type, "interrupted");
    assert.equal(reply.content, "Once upon a");
    assert.equal(reply.parts.at(-1).type, "error");
    const liveRes = await call(`${FUNCTIONS_URL}/conversations/${live.conversationId}`, {
      token: user.token,
    });
    assert.equal(liveRes.body.messages.at(-1).status, "streaming");

    // A second run finds nothing more of ours to do, and appends nothing.
    await runJob(held.session, "recovery", { steps: ["stuck_messages"] });
    const [again] = await sql`select parts from public.messages where id = ${streaming.messageId}`;
    assert.equal(again.parts.length, 2);
  } finally {
    await held.release();
    await sql.end();
  }
});

Deno.test("two recovery runs at once recover each stuck reply exactly once", async () => {
  const sql = connect();
  const user = await newUser("recovery");
  // Two more connections of their own, for two runs at once.
  const a = connect();
  const b = connect();
  try {
    const since = (await sql`select clock_timestamp() as t`)[0].t;
    const stuck = [];
    for (let i = 0; i < 25; i++) {
      stuck.push(
        await replyInProgress(sql, user.userId, "streaming", "10 minutes", `partial ${i}`),
      );
    }
    const runs = await Promise.all([
      runJob(a, "recovery", { steps: ["stuck_messages"], batchSize: 3 }),
      runJob(b, "recovery", { steps: ["stuck_messages"], batchSize: 3 }),
    ]);
    for (const runId of runs) {
      const rec = await records(sql, runId);
      assert.ok(
        ["done", "partial", "skipped"].includes(rec.stuck_messages.status),
        rec.stuck_messages.error,
      );
    }
    const rows = await sql`
      select status, error_type, content,
             (select count(*)::int from jsonb_array_elements(parts) p where p ->> 'type' = 'error') as errors
      from public.messages where id = any (${stuck.map((s) => s.messageId)}::uuid[])`;
    assert.equal(rows.length, 25);
    for (const r of rows) {
      assert.deepEqual([r.status, r.error_type, r.errors], ["error", "interrupted", 1]);
      assert.match(r.content, /^partial \d+$/);
    }
    // Every recovery since is recorded, ours among them.
    const [total] =
      await sql`select coalesce(sum(rows_affected), 0)::int as rows from public.job_runs
                              where job = 'recovery' and step = 'stuck_messages' and started_at >= ${since}`;
    assert.ok(total.rows >= 25, `recorded ${total.rows} recoveries`);
  } finally {
    await a.end();
    await b.end();
    await sql.end();
  }
});
