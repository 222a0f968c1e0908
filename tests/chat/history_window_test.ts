// The history a send reads is bounded (issue 20: history is never loaded whole): the one
// statement of a send (private.prepare_reply) walks back from the new message at most twice
// the window (chat.history_max_messages, 100 by default), stopping at the stored summary; the
// model gets the newest turns and the summary of the older ones read, and later sends reuse
// that summary instead of writing one each time.
import assert from "node:assert/strict";
import { chatUser, marker, providerRequests, readSse, withDb } from "../_support/chat.ts";

const MESSAGES = 300; // more than the read's bound (2 x 100)

/** A conversation of `n` finished messages (user and assistant in turn), each with its marker. */
async function longConversation(userId: string, tag: string): Promise<string> {
  return await withDb(async (sql) => {
    const [{ id }] = await sql<{ id: string }[]>`
      insert into public.conversations (user_id, title, model)
      values (${userId}, 'long', 'claude-sonnet-4.6') returning id`;
    const [{ leaf }] = await sql<{ leaf: string }[]>`
      with ids as (select i, gen_random_uuid() as mid from generate_series(1, ${MESSAGES}) i),
      inserted as (
        insert into public.messages (id, conversation_id, user_id, parent_id, role, status, parts,
                                     content, created_at)
        select mid, ${id}, ${userId}, lag(mid) over (order by i),
               case when i % 2 = 1 then 'user' else 'assistant' end, 'complete',
               jsonb_build_array(jsonb_build_object('type', 'text',
                                 'text', 'turn ' || i || ' ' || ${tag} || '-i' || i || '-')),
               'turn ' || i || ' ' || ${tag} || '-i' || i || '-',
               now() - interval '1 hour' + i * interval '1 ms'
        from ids returning id, created_at)
      select id as leaf from inserted order by created_at desc limit 1`;
    await sql`update public.conversations set active_leaf_id = ${leaf} where id = ${id}`;
    return id;
  });
}

const summaries = (conversationId: string) =>
  withDb((sql) =>
    sql`select count(*)::int as n from public.usage_ledger
        where conversation_id = ${conversationId} and product_step = 'summary'`
  ).then((r) => r[0].n as number);

Deno.test("a long conversation: the send reads a bounded window, summarizes once, then reuses the summary", async () => {
  const alice = await chatUser("alice");
  const tag = marker("hist");
  const conversationId = await longConversation(alice.userId, tag);
  const at = (i: number) => `${tag}-i${i}-`;

  await readSse(await alice.send(conversationId, { content: `first ask ${tag}` }));
  // Never read: older than the bound (the newest 200 messages, counting the new one).
  for (const api of ["openai", "anthropic"] as const) {
    assert.equal((await providerRequests(api, at(50))).length, 0, `message 50 reached ${api}`);
  }
  // Read and summarized (by the utility model), not sent to the chat model.
  assert.ok((await providerRequests("openai", at(150))).length >= 1, "message 150 not summarized");
  const chat = await providerRequests("anthropic", `first ask ${tag}`);
  assert.ok(chat.length >= 1, "the chat model was not called");
  assert.equal((await providerRequests("anthropic", at(150))).length, 0, "message 150 sent whole");
  // The newest turns go as they are.
  assert.ok((await providerRequests("anthropic", at(290))).length >= 1, "message 290 not sent");
  const [stored] = await withDb((sql) =>
    sql`select c.summary, m.content from public.conversations c
        join public.messages m on m.id = c.summary_through_id where c.id = ${conversationId}`
  );
  assert.ok(stored?.summary, "no summary stored");
  assert.equal(await summaries(conversationId), 1);

  // The next sends stop reading at the summary's last message and reuse it.
  for (let i = 0; i < 3; i++) {
    await readSse(await alice.send(conversationId, { content: `ask ${i} ${tag}` }));
  }
  assert.equal(await summaries(conversationId), 1, "a summary was written again");
  const latest = await providerRequests("anthropic", `ask 2 ${tag}`);
  assert.ok(latest.length >= 1);
  assert.ok((await providerRequests("anthropic", at(290))).length >= 4, "message 290 left out");
});

Deno.test("the send's statement is not callable by API roles", async () => {
  const rows = await withDb((sql) =>
    sql<{ role: string; may: boolean }[]>`
      select r.role, has_function_privilege(r.role, p.oid, 'EXECUTE') as may
      from pg_proc p, unnest(array['anon', 'authenticated']) r (role)
      where p.oid = 'private.prepare_reply'::regproc`
  );
  assert.deepEqual(rows.map((r) => [r.role, r.may]), [["anon", false], ["authenticated", false]]);
});
