// Conversation management: sidebar listing (groups in the user's time zone, pins, cursors,
// search), updates, soft delete, and the models list.
import assert from "node:assert/strict";
import { chatUser, marker, readSse, withDb } from "../_support/chat.ts";

Deno.test("the sidebar list groups by activity in the user's time zone, pinned first, with stable cursors", async () => {
  const alice = await chatUser("alice");
  const ids: Record<string, string> = {};
  for (const name of ["today", "yesterday", "week", "month", "old", "pinned"]) {
    ids[name] = await alice.createConversation({ title: name });
  }
  // Alice lives in Auckland; "yesterday" is computed there, not in UTC.
  await withDb(async (sql) => {
    await sql`update public.profiles set timezone = 'Pacific/Auckland' where id = ${alice.userId}`;
    const local = (days: number) =>
      sql`select ((date_trunc('day', now() at time zone 'Pacific/Auckland')
                                          - make_interval(days => ${days}) + interval '12 hours') at time zone 'Pacific/Auckland') as t`;
    const at = async (name: string, days: number) => {
      const [{ t }] = await local(days);
      await sql`update public.conversations set last_message_at = ${t} where id = ${ids[name]}`;
    };
    await at("yesterday", 1);
    await at("week", 3);
    await at("month", 20);
    await at("old", 90);
    await at("pinned", 200);
  });
  await alice.api(`/conversations/${ids.pinned}/pin`, { method: "POST" });

  const pages: { id: string; group: string; title: string }[][] = [];
  let cursor: string | null = null;
  do {
    const res = await alice.api(`/conversations?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
    assert.equal(res.status, 200);
    pages.push(res.body.conversations);
    cursor = res.body.next_cursor;
  } while (cursor);
  const all = pages.flat();
  assert.deepEqual(pages.map((p) => p.length), [2, 2, 2]);
  assert.deepEqual(all.map((c) => [c.title, c.group]), [
    ["pinned", "pinned"],
    ["today", "today"],
    ["yesterday", "yesterday"],
    ["week", "previous_7_days"],
    ["month", "previous_30_days"],
    ["old", "older"],
  ]);

  const pinnedOnly = await alice.api("/conversations?pinned=true");
  assert.deepEqual(pinnedOnly.body.conversations.map((c: { id: string }) => c.id), [ids.pinned]);
  const unpinned = await alice.api(`/conversations/${ids.pinned}/pin`, { method: "POST" });
  assert.equal(unpinned.body.pinned, false);
  assert.equal(unpinned.body.pinned_at, null);
});

Deno.test("sidebar cursors keep microseconds: conversations active within one millisecond are each listed once", async () => {
  const alice = await chatUser("alice");
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(await alice.createConversation({ title: `tick ${i}` }));
  // 12:00:00.123400 to .123700: one millisecond, four activities (a JS Date keeps only .123).
  await withDb((sql) =>
    sql`update public.conversations c set last_message_at = '2026-11-30T12:00:00.1234Z'::timestamptz
          + make_interval(secs => 0.0001 * x.i)
        from unnest(${ids}::uuid[]) with ordinality x(id, i) where c.id = x.id`
  );
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await alice.api(`/conversations?limit=1${cursor ? `&cursor=${cursor}` : ""}`);
    assert.equal(res.status, 200);
    seen.push(...res.body.conversations.map((c: { id: string }) => c.id));
    cursor = res.body.next_cursor;
  } while (cursor && seen.length < 10);
  assert.deepEqual(seen, [...ids].reverse());
});

Deno.test("search finds conversations by title (trigram, partial words) and by message text (full text)", async () => {
  const alice = await chatUser("alice");
  const word = marker("zebra");
  const byTitle = await alice.createConversation({ title: `Budget for ${word} project` });
  const byMessage = await alice.createConversation({ title: "Unrelated" });
  await readSse(await alice.send(byMessage, { content: `Tell me about the ${word} migration` }));
  await alice.createConversation({ title: "Nothing here" });

  const partial = await alice.api(`/conversations?q=${encodeURIComponent(word.slice(0, 9))}`);
  assert.deepEqual(partial.body.conversations.map((c: { id: string }) => c.id), [byTitle]);
  const full = await alice.api(`/conversations?q=${word}`);
  assert.deepEqual(
    new Set(full.body.conversations.map((c: { id: string }) => c.id)),
    new Set([byTitle, byMessage]),
  );
});

Deno.test("patch, archive and soft delete", async () => {
  const alice = await chatUser("alice");
  const id = await alice.createConversation({ title: "draft" });
  const patched = await alice.api(`/conversations/${id}`, {
    method: "PATCH",
    json: { title: "final", model: "gpt-5.2", system_prompt: "Be brief.", archived: true },
  });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.title, "final");
  assert.equal(patched.body.model, "gpt-5.2");
  assert.equal(patched.body.system_prompt, "Be brief.");
  assert.equal(patched.body.archived, true);

  const active = await alice.api("/conversations");
  assert.ok(
    !active.body.conversations.some((c: { id: string }) => c.id === id),
    "archived shows in the default list",
  );
  const archived = await alice.api("/conversations?archived=true");
  assert.ok(archived.body.conversations.some((c: { id: string }) => c.id === id));

  assert.equal((await alice.api(`/conversations/${id}`, { method: "DELETE" })).status, 204);
  assert.equal((await alice.api(`/conversations/${id}`)).status, 404);
  assert.equal((await alice.api(`/conversations/${id}`, { method: "DELETE" })).status, 404);
  const [row] = await withDb((sql) =>
    sql`select deleted_at from public.conversations where id = ${id}`
  );
  assert.ok(row.deleted_at, "delete is a soft delete: the row stays until retention purges it");
});

Deno.test("message history pages backwards along the active branch", async () => {
  const alice = await chatUser("alice");
  const id = await alice.createConversation();
  for (let i = 0; i < 3; i++) await readSse(await alice.send(id, { content: `question ${i}` }));
  const first = await alice.api(`/conversations/${id}/messages?limit=4`);
  assert.equal(first.body.messages.length, 4);
  assert.equal(first.body.messages[0].content, "question 1");
  const rest = await alice.api(
    `/conversations/${id}/messages?limit=4&before=${first.body.next_cursor}`,
  );
  assert.deepEqual(rest.body.messages.map((m: { role: string }) => m.role), ["user", "assistant"]);
  assert.equal(rest.body.messages[0].content, "question 0");
  assert.equal(rest.body.next_cursor, null);
});

Deno.test("GET /models lists enabled chat models, whether their provider is configured, and prices", async () => {
  const alice = await chatUser("alice");
  const res = await alice.api("/models");
  assert.equal(res.status, 200);
  const byId = Object.fromEntries(res.body.models.map((m: { id: string }) => [m.id, m]));
  for (const id of ["claude-opus-4-5", "claude-sonnet-4.6", "gpt-5.2"]) {
    assert.ok(byId[id], `${id} missing`);
  }
  assert.equal(byId["claude-opus-4-5"].provider_model, "claude-opus-4-5-20251101");
  assert.equal(byId["claude-sonnet-4.6"].provider_configured, true);
  assert.equal(byId["claude-sonnet-4.6"].price_per_mtok_usd.input, 3);
  assert.equal(byId["text-embedding-3-small"], undefined, "embedding models are not chat models");
  // Retired by Anthropic on 2026-11-30 (migration 20261201160000): no longer offered.
  assert.equal(byId["claude-sonnet-4.5"], undefined, "a retired model is not offered");
  assert.equal(res.body.default_model, "claude-sonnet-4.6");

  await withDb((sql) =>
    sql`update public.models set enabled = false where alias = 'claude-opus-4-5'`
  );
  try {
    const after = await alice.api("/models");
    assert.ok(!after.body.models.some((m: { id: string }) => m.id === "claude-opus-4-5"));
  } finally {
    await withDb((sql) =>
      sql`update public.models set enabled = true where alias = 'claude-opus-4-5'`
    );
  }
});
