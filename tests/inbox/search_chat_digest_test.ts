/**
 * The other intents and the scheduled path: search answers with citations of what the caller may
 * read (events and documents), chat replies in an inbox conversation, and a digest runs the
 * summary path from pg_cron through pg_net.
 */
import assert from "node:assert/strict";
import { readyDocument, until, withDb } from "../_support/chat.ts";
import { rest } from "../_support/stack.ts";
import {
  parseJsonEventStream,
  readUIMessageStream,
  type UIMessage,
  uiMessageChunkSchema,
} from "ai";
import { WORKSPACES } from "./fixtures/workspaces.ts";
import { postPrompt, streamPrompt, workspaceUser } from "./helpers.ts";

const dana = WORKSPACES[0];

/** Waits until every event of the user is in the search index. */
function indexed(userId: string, n: number) {
  return withDb((sql) =>
    until(`${n} events indexed`, async () => {
      const [r] = await sql`select count(distinct object_id)::int as n from public.search_index
                            where owner_id = ${userId} and object_type = 'event'`;
      return r.n >= n;
    }, 30_000)
  );
}

Deno.test("search: hybrid search over events and documents, cited in the chat's format", async () => {
  const user = await workspaceUser(dana);
  const doc = await readyDocument(user, {
    title: "Vendor contracts",
    content: "Acme invoices are paid net 30 by the finance team; PO numbers start with 77.",
  });
  await indexed(user.userId, dana.events.length);
  const other = await workspaceUser(dana); // the same texts, never found for `user`
  const res = await postPrompt(user, {
    prompt: "find the Acme invoice",
    context: { intent: "search" },
  });
  assert.equal(res.status, 200, res.text);
  const { answer, citations, results } = res.body.response;
  assert.ok(answer.length > 0);
  assert.ok(results.length > 0);
  // Everything found is something the caller may read (RLS on the index says so), and none of
  // the other user's events.
  const ids = results.map((r: { object_id: string }) => r.object_id);
  const visible = await rest(
    user.token,
    `/search_index?select=object_id&object_id=in.(${ids.join(",")})`,
  );
  const readable = new Set(visible.body.map((r: { object_id: string }) => r.object_id));
  for (const r of results) {
    assert.ok(
      readable.has(r.object_id),
      `${r.object_type} ${r.object_id} is not readable by the caller`,
    );
    assert.ok(!Object.values(other.events).includes(r.object_id));
  }
  assert.ok(
    results.some((r: { object_id: string }) => r.object_id === user.events.invoice_overdue),
  );
  assert.ok(
    results.some((r: { document_id: string }) => r.document_id === doc),
    "documents are searched too",
  );
  assert.ok(citations.length > 0);
  for (const c of citations) {
    assert.equal(c.type, "citation");
    assert.ok(results.some((r: { object_id: string }) => r.object_id === c.object_id));
    assert.equal(typeof c.snippet, "string");
    assert.equal(typeof c.chunk_index, "number");
  }
  const [steps] = await withDb((sql) =>
    sql`select count(*)::int as n from public.usage_ledger
        where user_id = ${user.userId} and product = 'inbox' and product_step = 'prompts.search'`
  );
  assert.equal(steps.n, 1);
});

Deno.test("chat: an ordinary reply in a conversation of kind inbox, continued with context", async () => {
  const user = await workspaceUser(dana);
  const res = await postPrompt(user, { prompt: "hello there", context: { intent: "chat" } });
  assert.equal(res.status, 200, res.text);
  const { conversation_id, message_id, status, content } = res.body.response;
  assert.equal(status, "complete");
  assert.ok(content.includes("hello there"), content);
  const [conv] = await withDb((sql) =>
    sql`select kind, user_id from public.conversations where id = ${conversation_id}`
  );
  assert.deepEqual([conv.kind, conv.user_id], ["inbox", user.userId]);
  const again = await postPrompt(user, {
    prompt: "and again",
    context: { intent: "chat", conversation_id },
  });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.response.conversation_id, conversation_id);
  assert.notEqual(again.body.response.message_id, message_id);
  const [n] = await withDb((sql) =>
    sql`select count(*)::int as n from public.messages where conversation_id = ${conversation_id}`
  );
  assert.equal(n.n, 4);
  // A chat conversation is not an inbox one.
  const chatId = await user.createConversation();
  const wrong = await postPrompt(user, {
    prompt: "hi",
    context: { intent: "chat", conversation_id: chatId },
  });
  assert.equal(wrong.status, 422, wrong.text);
});

Deno.test("digests: pg_cron's dispatch runs the summary path for due subscriptions, once", async () => {
  const user = await workspaceUser(dana);
  const digest = await withDb(async (sql) => {
    const [d] = await sql`insert into public.inbox_digests (user_id, frequency, sources)
                          values (${user.userId}, 'daily', '{slack,outlook}') returning id, next_run_at`;
    assert.ok(d.next_run_at > new Date(), "the first run is the next local 08:00");
    await sql`update public.inbox_digests set next_run_at = now() - interval '1 minute' where id = ${d.id}`;
    const [sent] = await sql`select private.dispatch_digests() as n`;
    assert.ok(sent.n >= 1);
    const [again] = await sql`select next_run_at from public.inbox_digests where id = ${d.id}`;
    assert.ok(again.next_run_at > new Date(), "claimed: moved to its next run before the call");
    return d.id;
  });
  const done = await withDb((sql) =>
    until("the digest's summary", async () => {
      const [d] =
        await sql`select last_summary_id, last_error from public.inbox_digests where id = ${digest}`;
      return d.last_summary_id || d.last_error ? d : null;
    }, 30_000)
  );
  assert.equal(done.last_error, null);
  const [s] = await withDb((sql) =>
    sql`select s.user_id, s.sources, s.content_json, p.digest_id, p.intent
        from public.summaries s join public.prompts p on p.summary_id = s.id
        where s.id = ${done.last_summary_id}`
  );
  assert.equal(s.user_id, user.userId);
  assert.deepEqual(s.sources, ["slack", "outlook"]);
  assert.equal(s.digest_id, digest);
  assert.equal(s.intent, "summarize");
  const bySource = s.content_json.statistics.by_source;
  assert.equal(bySource.telegram, 0);
  assert.equal(
    s.content_json.statistics.total_events,
    dana.events.filter((e) => e.source !== "telegram" && e.minutesAgo < 24 * 60).length,
  );
});

Deno.test("digests: subscribed through PostgREST, at most inbox.max_digests each", async () => {
  const user = await workspaceUser(WORKSPACES[1]);
  for (let i = 0; i < 5; i++) {
    const res = await rest(user.token, "/inbox_digests", {
      method: "POST",
      body: JSON.stringify({ frequency: "hourly", user_id: user.userId }),
    });
    assert.equal(res.status, 201, res.text);
    // The next full hour.
    const next = new Date(res.body[0].next_run_at);
    assert.equal(next.getUTCMinutes(), 0);
    assert.ok(next > new Date() && next.getTime() - Date.now() <= 3_600_000);
  }
  const sixth = await rest(user.token, "/inbox_digests", {
    method: "POST",
    body: JSON.stringify({ frequency: "daily", user_id: user.userId }),
  });
  assert.equal(sixth.status, 403, sixth.text);
  assert.equal(sixth.body.hint, "quota_exceeded");
  const [n] = await withDb((sql) =>
    sql`select count(*)::int as n from public.inbox_digests where user_id = ${user.userId}`
  );
  assert.equal(n.n, 5);
});

Deno.test("the stream is what the AI SDK reads: a chat reply's text part and the data-chat result", async () => {
  const user = await workspaceUser(dana);
  const res = await streamPrompt(user, { prompt: "tell me a joke", context: { intent: "chat" } });
  assert.equal(res.status, 200);
  const chunks = parseJsonEventStream({ stream: res.body!, schema: uiMessageChunkSchema });
  const valid = chunks.pipeThrough(
    new TransformStream({
      transform(part, controller) {
        if (!part.success) throw part.error; // every chunk must match the pinned ai's schema
        controller.enqueue(part.value);
      },
    }),
  );
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream: valid })) message = m;
  assert.ok(message);
  const text = message.parts.filter((p) => p.type === "text").map((p) =>
    (p as { text: string }).text
  );
  assert.equal(text.length, 1);
  assert.ok(text[0].includes("tell me a joke"), text[0]);
  const result = message.parts.find((p) => p.type === "data-chat") as
    | { data: { prompt_id: string; response: { content: string } } }
    | undefined;
  assert.ok(result);
  assert.equal(result.data.response.content, text[0]);
  assert.equal(message.id, result.data.prompt_id);
});
