// Concurrency: 50 users chat at once (plain, paced, tool-using, failing mid-stream, retried
// before the first token, and closing their tab early) while documents are being ingested and
// the retention job and the ingestion sweeper run over and over. Afterwards every message
// is in a final state, every reply and conversation totals exactly the sum of its ledger rows,
// the daily roll-up matches the ledger, the documents are indexed, and retention purged what it
// should have, with no failed run.
import assert from "node:assert/strict";
import {
  type ChatUser,
  chatUser,
  GPT,
  marker,
  queueScript,
  readSse,
  SONNET,
} from "../_support/chat.ts";
import { call, connect, FUNCTIONS_URL, REST_URL, until } from "../_support/stack.ts";
import { runJob } from "../scheduled/helpers.ts";

const USERS = 50;
const DOCUMENTS = 10;
const SEND_TIMEOUT_MS = 90_000;

type Variant = "plain" | "paced" | "tools" | "error" | "retried" | "closed";
const VARIANTS: Variant[] = ["plain", "paced", "tools", "error", "retried", "closed"];
const WORDS = Array.from({ length: 24 }, (_, i) => `word${i}`).join(" ");

/** What user i sends, and how the reply must end. */
function plan(i: number, tag: string) {
  const variant = VARIANTS[i % VARIANTS.length];
  const openai = i % 2 === 0;
  const directive = (script: unknown) => `${tag} [[fake ${JSON.stringify(script)}]]`;
  const content = {
    plain: `hello ${tag}`,
    paced: directive({ text: WORDS, tokens_per_sec: 60 }),
    tools: directive({
      tool_calls: [{ name: "get_current_time", arguments: { timezone: "UTC" } }],
    }),
    error: directive({ text: WORDS, error_after_tokens: 4 }),
    retried: `retried ${tag}`,
    closed: directive({ text: WORDS, tokens_per_sec: 40 }),
  }[variant];
  return {
    variant,
    model: openai ? "gpt-5.2" : "claude-sonnet-4.6",
    provider: openai ? "openai" as const : "anthropic" as const,
    providerModel: openai ? GPT : SONNET,
    content,
    status: variant === "error" ? "error" : "complete",
  };
}

/** Sends and reads the reply to the end (or, for "closed", only its first chunk). */
async function chat(user: ChatUser, i: number) {
  const tag = marker("busy");
  const p = plan(i, tag);
  if (p.variant === "retried") {
    await queueScript(p.provider, { status: 529, retry_after: 0.05 }, {
      model: p.providerModel,
      contains: tag,
    });
  }
  // Half the conversations are untitled: their first exchange also writes a title (metered).
  const conversationId = await user.createConversation(
    i % 4 < 2 ? { model: p.model } : { title: "busy", model: p.model },
  );
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), SEND_TIMEOUT_MS);
  try {
    const res = await fetch(`${FUNCTIONS_URL}/conversations/${conversationId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
      body: JSON.stringify({ content: p.content }),
      signal: abort.signal,
    });
    assert.equal(res.status, 200, `user ${i} (${p.variant}): send answered ${res.status}`);
    if (p.variant === "closed") {
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel(); // the tab closes; the reply goes on in the background
    } else {
      const chunks = await readSse(res);
      assert.equal(chunks.at(-1), "[DONE]", `user ${i} (${p.variant}): the stream did not end`);
    }
  } catch (e) {
    if (abort.signal.aborted) {
      throw new Error(`user ${i} (${p.variant}): no answer within ${SEND_TIMEOUT_MS} ms`);
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return { userId: user.userId, conversationId, ...p };
}

/** Markdown long enough for several chunks. */
function documentText(n: number) {
  const section = (s: number) =>
    `## Section ${s}\n\n` +
    Array.from({ length: 12 }, (_, k) =>
      `Sentence ${k} of section ${s} in document ${n} talks about topic ${marker()}.`)
      .join(" ");
  return Array.from({ length: 6 }, (_, s) => section(s)).join("\n\n");
}

/** Soft-deleted conversations 40 days old, with messages and usage: retention must purge them. */
async function seedExpired(sql: ReturnType<typeof connect>, userId: string) {
  const ids: string[] = [];
  for (let c = 0; c < 3; c++) {
    const [conv] = await sql`
      insert into public.conversations (user_id, title, model, deleted_at, created_at)
      values (${userId}, 'expired', 'gpt-5.2', now() - interval '40 days', now() - interval '41 days')
      returning id`;
    ids.push(conv.id);
    for (let m = 0; m < 5; m++) {
      const [msg] = await sql`
        insert into public.messages (conversation_id, user_id, role, content, created_at)
        values (${conv.id}, ${userId}, 'user', 'old', now() - interval '41 days' + ${m} * interval '1 minute')
        returning id`;
      await sql`
        insert into public.usage_ledger (call_id, user_id, conversation_id, message_id, product_step,
                                         provider, model, provider_model, status, input_tokens, created_at)
        values (${crypto.randomUUID()}, ${userId}, ${conv.id}, ${msg.id}, 'chat', 'openai', 'gpt-5.2',
                'gpt-5.2', 'ok', 10, now() - interval '41 days')`;
    }
  }
  return ids;
}

Deno.test("concurrency: 50 users chat at once while documents are ingested and retention runs", async () => {
  const sql = connect();
  const jobsSql = connect();
  let chatting = true;
  try {
    // Users, in batches (each one opens a database connection to be created).
    const users: ChatUser[] = [];
    for (let b = 0; b < USERS; b += 10) {
      users.push(
        ...await Promise.all(
          Array.from({ length: Math.min(10, USERS - b) }, () => chatUser("busy")),
        ),
      );
    }
    const retired = await chatUser("retired");
    const expired = await seedExpired(sql, retired.userId);
    const rules =
      (await sql`select name from private.retention_rules where name not like 'test\\_%' order by name`)
        .map((r) => r.name as string);

    // Retention and the ingestion sweeper, over and over, for as long as the users chat (and
    // once more after). Only the registered rules: other tests' own rules are theirs to run. The
    // recovery job is left to pg_cron: the scheduled-work tests expect their recovery runs not
    // to be skipped because another run holds a step.
    const runIds: string[] = [];
    let runs = 0;
    const jobs = (async () => {
      do {
        runIds.push(await runJob(jobsSql, "retention", { steps: rules }));
        await jobsSql`select private.dispatch_due_ingestion(100)`;
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 200));
      } while (chatting);
    })();

    // Documents inserted straight through PostgREST, as their owners: the insert trigger queues
    // ingestion through pg_net while the chats run.
    const documents = Promise.all(Array.from({ length: DOCUMENTS }, async (_, n) => {
      const owner = users[n];
      const res = await call(`${REST_URL}/documents`, {
        method: "POST",
        token: owner.token,
        headers: { "content-type": "application/json", prefer: "return=representation" },
        body: JSON.stringify({
          kind: "document",
          title: `busy document ${n}`,
          content: documentText(n),
        }),
      });
      assert.equal(res.status, 201, `document ${n}: ${res.status} ${res.text}`);
      return res.body[0].id as string;
    }));

    const sent = await Promise.all(users.map((u, i) => chat(u, i)));
    const documentIds = await documents;
    chatting = false;
    await jobs;

    const userIds = users.map((u) => u.userId);
    // Every message ends in a final state (the closed tabs' replies finish in the background).
    await until("every reply to be final", async () => {
      const [{ n }] = await sql`select count(*)::int as n from public.messages
                                where user_id = any (${userIds}) and status in ('pending', 'streaming')`;
      return n === 0;
    }, 60_000);

    const messages =
      await sql`select user_id, conversation_id, role, status, content from public.messages
                               where user_id = any (${userIds})`;
    for (const s of sent) {
      const own = messages.filter((m) => m.conversation_id === s.conversationId);
      const label = `${s.variant} reply in ${s.conversationId}`;
      assert.deepEqual(own.map((m) => m.role).sort(), ["assistant", "user"], label);
      assert.equal(own.find((m) => m.role === "user")!.content, s.content, label);
      assert.equal(own.find((m) => m.role === "assistant")!.status, s.status, label);
    }

    // Every reply's totals are the sum of its ledger rows, and it has at least one.
    const replies = await sql`
      select m.id, m.status, l.calls,
             (m.input_tokens, m.output_tokens, m.cached_read_tokens, m.cache_write_tokens,
              m.reasoning_tokens, m.cost_micro_usd)::text as stored,
             (coalesce(l.i, 0), coalesce(l.o, 0), coalesce(l.cr, 0), coalesce(l.cw, 0), coalesce(l.r, 0),
              coalesce(l.c, 0))::text as summed
      from public.messages m
      left join lateral (
        select count(*)::int as calls, sum(input_tokens) as i, sum(output_tokens) as o,
               sum(cached_read_tokens) as cr, sum(cache_write_tokens) as cw,
               sum(reasoning_tokens) as r, sum(cost_micro_usd) as c
        from public.usage_ledger where message_id = m.id) l on true
      where m.user_id = any (${userIds}) and m.role = 'assistant'`;
    assert.equal(replies.length, USERS);
    assert.deepEqual(
      replies.filter((r) => r.stored !== r.summed),
      [],
      "replies whose totals are not their ledger's",
    );
    assert.deepEqual(replies.filter((r) => r.calls === 0), [], "replies without a ledger row");

    // Every conversation's totals are the sum of its ledger rows (chat steps and titles).
    const conversations = await sql`
      select c.id,
             (c.input_tokens, c.output_tokens, c.cached_read_tokens, c.cache_write_tokens,
              c.reasoning_tokens, c.cost_micro_usd)::text as stored,
             (coalesce(l.i, 0), coalesce(l.o, 0), coalesce(l.cr, 0), coalesce(l.cw, 0), coalesce(l.r, 0),
              coalesce(l.c, 0))::text as summed
      from public.conversations c
      left join lateral (
        select sum(input_tokens) as i, sum(output_tokens) as o, sum(cached_read_tokens) as cr,
               sum(cache_write_tokens) as cw, sum(reasoning_tokens) as r, sum(cost_micro_usd) as c
        from public.usage_ledger where conversation_id = c.id) l on true
      where c.user_id = any (${userIds})`;
    assert.equal(conversations.length, USERS);
    assert.deepEqual(
      conversations.filter((c) => c.stored !== c.summed),
      [],
      "conversations whose totals are not their ledger's",
    );

    // The daily roll-up holds the same sums as the ledger, per user (chat, titles, embeddings).
    const rollUp = await sql`
      select u.id,
             (select (count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
                      coalesce(sum(cost_micro_usd), 0))::text
              from public.usage_ledger where user_id = u.id) as ledger,
             (select (coalesce(sum(calls), 0), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
                      coalesce(sum(cost_micro_usd), 0))::text
              from public.usage_daily where user_id = u.id) as daily
      from unnest(${userIds}::uuid[]) as u(id)`;
    assert.deepEqual(
      rollUp.filter((r) => r.ledger !== r.daily),
      [],
      "users whose usage_daily differs from their ledger",
    );

    // The documents were indexed, all of their chunks.
    const docs = await until("the documents to be indexed", async () => {
      const rows = await sql`select d.id, d.status, d.error, d.chunk_count,
                                    (select count(*)::int from public.search_index s where s.document_id = d.id) as chunks
                             from public.documents d where d.id = any (${documentIds})`;
      return rows.every((d) => d.status === "ready" || d.status === "error") ? rows : null;
    }, 60_000);
    for (const d of docs) {
      assert.equal(d.status, "ready", `document ${d.id}: ${d.error}`);
      assert.ok(d.chunk_count > 1, `document ${d.id}: ${d.chunk_count} chunks`);
      assert.equal(d.chunks, d.chunk_count, `document ${d.id}: chunks in the index`);
    }

    // Retention ran alongside and purged the expired conversations (more runs if another run
    // held a rule meanwhile), and no run failed.
    assert.ok(runs >= 1);
    await until("retention to purge the expired conversations", async () => {
      const [{ n }] =
        await sql`select count(*)::int as n from public.conversations where id = any (${expired})`;
      if (n === 0) return true;
      runIds.push(await runJob(jobsSql, "retention", { steps: rules }));
      return false;
    }, 60_000);
    const [{ left }] =
      await sql`select (select count(*) from public.messages where conversation_id = any (${expired}))
                                      + (select count(*) from public.usage_ledger where conversation_id = any (${expired}))
                                      as left`;
    assert.equal(Number(left), 0, "messages or usage of purged conversations are left");
    const failed = await sql`select job, step, error from public.job_runs
                             where run_id = any (${runIds}::uuid[]) and status = 'failed'`;
    assert.deepEqual([...failed], [], "failed job runs");
  } finally {
    chatting = false;
    await sql.end();
    await jobsSql.end();
  }
});
