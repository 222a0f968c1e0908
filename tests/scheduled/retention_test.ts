// Retention: rules purge only expired rows, one bounded batch at a time; children of purged
// conversations go first and with them; concurrent runs never purge a row twice or deadlock.
import assert from "node:assert/strict";
import { chatUser, marker, queueScript, readSse, until, withDb } from "../_support/chat.ts";
import { newUser } from "../_support/stack.ts";
import {
  connect,
  conversation,
  exclusiveSession,
  ledgerRows,
  records,
  runJob,
  type Sql,
  testRule,
} from "./helpers.ts";

const CONVERSATION_RULES = [
  "deleted_conversation_messages",
  "deleted_conversation_usage",
  "deleted_conversations",
];

const n = async (sql: Sql, query: string, ...params: unknown[]) =>
  // deno-lint-ignore no-explicit-any
  Number((await sql.unsafe(query, params as any[]))[0].count);

Deno.test("a run deletes only expired rows, at most one batch per rule; repeated runs finish, children with their parents", async () => {
  const sql = connect();
  const user = await newUser("retention");
  // Ledger detail that belongs to no conversation, under a test window of one hour.
  const ledger = await testRule(
    sql,
    "public.usage_ledger",
    `user_id = '${user.userId}' and conversation_id is null`,
  );
  const held = await exclusiveSession(sql, "retention", [...CONVERSATION_RULES, ledger.name]);
  try {
    await ledgerRows(sql, user.userId, 7, "2 hours"); // expired
    await ledgerRows(sql, user.userId, 4, "10 minutes"); // live
    // A: deleted past the 30-day grace period, with 5 messages and usage linked to them.
    const a = await conversation(sql, user.userId, {
      messages: 5,
      age: "40 days",
      deletedAgo: "31 days",
    });
    await ledgerRows(sql, user.userId, 1, "40 days", {
      conversationId: a.id,
      messageId: a.messages[1],
    });
    await ledgerRows(sql, user.userId, 1, "40 days", {
      conversationId: a.id,
      messageId: a.messages[3],
    });
    // B: deleted, but still in its grace period. C: old, but not deleted.
    const b = await conversation(sql, user.userId, {
      messages: 2,
      age: "40 days",
      deletedAgo: "1 day",
    });
    const c = await conversation(sql, user.userId, { messages: 2, age: "60 days" });
    await ledgerRows(sql, user.userId, 1, "60 days", { conversationId: c.id });

    const steps = [...CONVERSATION_RULES, ledger.name];
    const left = async () => ({
      ledgerExpired: await n(
        sql,
        `select count(*) from public.usage_ledger where user_id = $1 and conversation_id is null
         and created_at < now() - interval '1 hour'`,
        user.userId,
      ),
      ledgerLive: await n(
        sql,
        `select count(*) from public.usage_ledger where user_id = $1 and conversation_id is null
         and created_at > now() - interval '1 hour'`,
        user.userId,
      ),
      aMessages: await n(
        sql,
        "select count(*) from public.messages where conversation_id = $1",
        a.id,
      ),
      aUsage: await n(
        sql,
        "select count(*) from public.usage_ledger where conversation_id = $1",
        a.id,
      ),
      a: await n(sql, "select count(*) from public.conversations where id = $1", a.id),
    });

    // Batches of 2, one batch per rule per run. Messages go newest first (children before their
    // parents), and A goes in the run where it has nothing left pointing at it.
    const expected = [
      {
        deleted_conversation_messages: 2,
        deleted_conversation_usage: 2,
        deleted_conversations: 0,
        ledger: 2,
      },
      {
        deleted_conversation_messages: 2,
        deleted_conversation_usage: 0,
        deleted_conversations: 0,
        ledger: 2,
      },
      {
        deleted_conversation_messages: 1,
        deleted_conversation_usage: 0,
        deleted_conversations: 1,
        ledger: 2,
      },
      {
        deleted_conversation_messages: 0,
        deleted_conversation_usage: 0,
        deleted_conversations: 0,
        ledger: 1,
      },
      {
        deleted_conversation_messages: 0,
        deleted_conversation_usage: 0,
        deleted_conversations: 0,
        ledger: 0,
      },
    ];
    const after = [];
    for (const [i, want] of expected.entries()) {
      const runId = await runJob(held.session, "retention", { steps, batchSize: 2, maxBatches: 1 });
      const rec = await records(sql, runId);
      const got = {
        deleted_conversation_messages: rec.deleted_conversation_messages.rows,
        deleted_conversation_usage: rec.deleted_conversation_usage.rows,
        deleted_conversations: rec.deleted_conversations.rows,
        ledger: rec[ledger.name].rows,
      };
      assert.deepEqual(got, want, `run ${i + 1}`);
      for (const step of steps) {
        assert.equal(rec[step].batches, 1, `run ${i + 1}, ${step}: one batch`);
        assert.equal(
          rec[step].status,
          rec[step].rows ? "partial" : "done",
          `run ${i + 1}, ${step}`,
        );
      }
      after.push(await left());
    }
    assert.deepEqual(after.map((s) => s.ledgerExpired), [5, 3, 1, 0, 0]);
    assert.deepEqual(after.map((s) => s.aMessages), [3, 1, 0, 0, 0]);
    assert.deepEqual(after.map((s) => s.aUsage), [0, 0, 0, 0, 0]);
    assert.deepEqual(after.map((s) => s.a), [1, 1, 0, 0, 0]);
    assert.ok(after.every((s) => s.ledgerLive === 4), "live ledger rows were deleted");

    // What was not expired is untouched: B (in its grace period) and C (not deleted), with
    // their messages, and C's usage.
    for (const kept of [b, c]) {
      const msgs = await n(
        sql,
        "select count(*) from public.messages where conversation_id = $1",
        kept.id,
      );
      assert.equal(msgs, 2);
      assert.equal(
        await n(sql, "select count(*) from public.conversations where id = $1", kept.id),
        1,
      );
    }
    assert.equal(
      await n(sql, "select count(*) from public.usage_ledger where conversation_id = $1", c.id),
      1,
    );
  } finally {
    await held.release();
    await ledger.drop();
    await sql.end();
  }
});

Deno.test("the registered rules purge with their configured windows", async () => {
  const sql = connect();
  const user = await newUser("retention");
  try {
    const [w] = await sql`select
      (select value from public.app_settings where key = 'retention.deleted_conversations') as grace,
      (select value from public.app_settings where key = 'retention.usage_ledger') as ledger`;
    assert.equal(w.grace, "30 days");
    assert.equal(w.ledger, "90 days");
    const gone = await conversation(sql, user.userId, {
      messages: 30,
      age: "45 days",
      deletedAgo: "30 days 1 hour",
    });
    const kept = await conversation(sql, user.userId, {
      messages: 3,
      age: "45 days",
      deletedAgo: "29 days",
    });
    await ledgerRows(sql, user.userId, 3, "91 days");
    await ledgerRows(sql, user.userId, 2, "89 days");

    // pg_cron may run the same rules meanwhile: the outcome is the same whoever does it.
    for (let i = 0; i < 5; i++) {
      const runId = await runJob(sql, "retention", {
        steps: [...CONVERSATION_RULES, "usage_ledger"],
        batchSize: 7,
      });
      const rec = await records(sql, runId);
      for (const r of Object.values(rec)) assert.notEqual(r.status, "failed", r.error);
      if (await n(sql, "select count(*) from public.conversations where id = $1", gone.id) === 0) {
        break;
      }
    }
    assert.equal(
      await n(sql, "select count(*) from public.conversations where id = $1", gone.id),
      0,
    );
    assert.equal(
      await n(sql, "select count(*) from public.messages where conversation_id = $1", gone.id),
      0,
    );
    assert.equal(
      await n(sql, "select count(*) from public.messages where conversation_id = $1", kept.id),
      3,
    );
    const ledger =
      await sql`select count(*) filter (where created_at < now() - interval '90 days')::int as old,
                                    count(*)::int as total
                             from public.usage_ledger where user_id = ${user.userId}`;
    assert.deepEqual({ ...ledger[0] }, { old: 0, total: 2 });
    // The daily totals stay: the ledger's detail goes, the aggregates do not.
    const [daily] = await sql`select coalesce(sum(calls), 0)::int as calls from public.usage_daily
                              where user_id = ${user.userId}`;
    assert.equal(daily.calls, 5);
  } finally {
    await sql.end();
  }
});

Deno.test("two runs at once never delete a row twice and never deadlock; their counts add up", async () => {
  const sql = connect();
  const user = await newUser("retention");
  // Two rules: usage detail, and old messages of one live conversation (a self-referencing
  // table, where a cascade from a parent would delete children outside the batch uncounted).
  const ledger = await testRule(
    sql,
    "public.usage_ledger",
    `user_id = '${user.userId}' and conversation_id is null`,
  );
  const chat = await conversation(sql, user.userId, { messages: 300, age: "1 day" });
  const fresh = await conversation(sql, user.userId, { messages: 5, age: "5 minutes" });
  const messages = await testRule(
    sql,
    "public.messages",
    `conversation_id in ('${chat.id}', '${fresh.id}')`,
  );
  // Two more connections of their own, for two runs at once.
  const a = connect();
  const b = connect();
  try {
    await ledgerRows(sql, user.userId, 400, "2 hours");
    await ledgerRows(sql, user.userId, 20, "5 minutes");
    const steps = [ledger.name, messages.name];

    const [runA, runB] = await Promise.all([
      runJob(a, "retention", { steps, batchSize: 10 }),
      runJob(b, "retention", { steps, batchSize: 10 }),
    ]);
    for (const runId of [runA, runB]) {
      const rec = await records(sql, runId);
      for (const step of steps) {
        assert.ok(["done", "partial", "skipped"].includes(rec[step].status), rec[step].error);
      }
    }
    // Every purge of these rules is recorded (pg_cron's runs too): the counts add up exactly.
    const totals = await sql`select step, sum(rows_affected)::int as rows from public.job_runs
                             where step = any (${steps}) group by step`;
    const byStep = Object.fromEntries(totals.map((t) => [t.step, t.rows]));
    assert.equal(byStep[ledger.name], 400);
    assert.equal(byStep[messages.name], 300);
    assert.equal(
      await n(sql, "select count(*) from public.usage_ledger where user_id = $1", user.userId),
      20,
    );
    assert.equal(
      await n(sql, "select count(*) from public.messages where conversation_id = $1", chat.id),
      0,
    );
    assert.equal(
      await n(sql, "select count(*) from public.messages where conversation_id = $1", fresh.id),
      5,
    );
  } finally {
    await a.end();
    await b.end();
    await ledger.drop();
    await messages.drop();
    await sql.end();
  }
});

// A conversation hidden without DELETE /conversations/:id (deleted_at set directly, as through
// PostgREST) still has its files in Storage when retention reaches it. Retention must not purge
// the rows that point at those files before the sweeps have removed them: first the artifacts
// (step deleted_artifacts), then, once the messages are gone, the attachments (step
// unsent_uploads), and only then the conversation. Every file is gone from Storage at the end.
// (In this file so that it never runs beside the tests above, which count what each rule purges.)

/** What is left of the conversation: its rows and its files in Storage. */
const left = (conversationId: string, userId: string) =>
  withDb(async (sql) => {
    const count = async (query: Promise<{ n: number }[]>) => (await query)[0].n;
    return {
      conversation: await count(sql`select count(*)::int as n from public.conversations
                                    where id = ${conversationId}`),
      messages: await count(sql`select count(*)::int as n from public.messages
                                where conversation_id = ${conversationId}`),
      attachments: await count(sql`select count(*)::int as n from public.chat_attachments
                                   where conversation_id = ${conversationId}`),
      artifacts: await count(sql`select count(*)::int as n from public.artifacts
                                 where conversation_id = ${conversationId}`),
      attachmentFiles: await count(sql`select count(*)::int as n from storage.objects
        where bucket_id = 'chat-attachments' and name like ${`${userId}/${conversationId}/%`}`),
      artifactFiles: await count(sql`select count(*)::int as n from storage.objects
        where bucket_id = 'chat-artifacts' and owner_id = ${userId}`),
    };
  });

Deno.test("retention purges a conversation hidden without the delete route only after its files are gone, files first", async () => {
  const alice = await chatUser("purge-files");
  const conversation = await alice.createConversation({ model: "claude-sonnet-4.6" });

  // One message with an uploaded file, whose reply makes an artifact.
  const form = new FormData();
  form.append("file", new File(["the brief"], "brief.txt", { type: "text/plain" }));
  const uploaded = await alice.api(`/conversations/${conversation}/attachments`, {
    method: "POST",
    body: form,
  });
  assert.equal(uploaded.status, 201, uploaded.text);
  const tag = marker("purge");
  await queueScript("anthropic", {
    tool_calls: [{ name: "create_artifact", arguments: { path: "notes.md", content: "# Notes" } }],
  }, { contains: tag });
  await queueScript("anthropic", { text: "Done." }, { contains: tag });
  await readSse(
    await alice.send(conversation, {
      content: `Summarize ${tag}`,
      attachments: [uploaded.body.id],
    }),
  );
  const before = await left(conversation, alice.userId);
  assert.deepEqual(before, {
    conversation: 1,
    messages: 2,
    attachments: 1,
    artifacts: 1,
    attachmentFiles: 1,
    artifactFiles: 1,
  });

  // The retention rules, and the artifact sweep, run only here while the conversation is
  // eligible (pg_cron's runs and the other retention tests wait). The unsent-uploads sweep is
  // left to anyone: pg_cron's recovery run may take the attachment at any moment.
  const sql = connect();
  const locks = connect(); // two connections, both held for the locks (sql stays free)
  const retentionHeld = await exclusiveSession(locks, "retention", CONVERSATION_RULES);
  const recoveryHeld = await exclusiveSession(locks, "recovery", ["deleted_artifacts"]);
  const retention = async () => {
    for (let i = 0; i < 2; i++) {
      await runJob(retentionHeld.session, "retention", {
        steps: CONVERSATION_RULES,
        batchSize: 100,
      });
    }
  };
  try {
    // Hidden 31 days ago without the delete route, so its files were not removed; retention's
    // window (retention.deleted_conversations) is 30 days.
    await withDb(async (db) => {
      await db`update public.conversations set deleted_at = now() - interval '31 days'
               where id = ${conversation}`;
      for (const table of ["messages", "usage_ledger", "chat_attachments"]) {
        await db.unsafe(
          `update public.${table} set created_at = created_at - interval '40 days'
           where conversation_id = $1`,
          [conversation],
        );
      }
    });

    // While the artifact is there, the messages (which its row cascades from) stay.
    await retention();
    const waiting = await left(conversation, alice.userId);
    assert.equal(waiting.messages, 2);
    assert.equal(waiting.artifacts, 1);
    assert.equal(waiting.conversation, 1);

    // The artifact sweep removes the file, then the row.
    await runJob(recoveryHeld.session, "recovery", { steps: ["deleted_artifacts"] });
    await until("the artifact removed", async () => {
      const now = await left(conversation, alice.userId);
      return now.artifacts === 0 && now.artifactFiles === 0;
    }, 20_000);

    // Then the messages go; no message names the attachment any more, so the unsent-uploads sweep
    // takes it (file first), and then the conversation goes. Never a file without its row, never
    // the conversation while its attachment row is there.
    await until("the conversation purged", async () => {
      await retention();
      await runJob(sql, "recovery", { steps: ["unsent_uploads"] });
      const now = await left(conversation, alice.userId);
      assert.ok(
        now.attachmentFiles <= now.attachments,
        `a file without its row: ${JSON.stringify(now)}`,
      );
      if (now.attachments > 0) assert.equal(now.conversation, 1, "purged before its attachment");
      return now.conversation === 0;
    }, 30_000);
    assert.deepEqual(await left(conversation, alice.userId), {
      conversation: 0,
      messages: 0,
      attachments: 0,
      artifacts: 0,
      attachmentFiles: 0,
      artifactFiles: 0,
    });
  } finally {
    await recoveryHeld.release();
    await retentionHeld.release();
    await locks.end();
    await sql.end();
  }
});
