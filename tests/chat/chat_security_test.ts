// Users only ever reach their own conversations, through the API and through PostgREST, and
// bad input is refused with a 4xx JSON error that writes nothing.
import assert from "node:assert/strict";
import { chatUser, expectRefused, readSse, type RefusedCase, withDb } from "../_support/chat.ts";
import { rest } from "../_support/stack.ts";

Deno.test("user B gets 404 for user A's conversation on every endpoint", async () => {
  const alice = await chatUser("alice");
  const bob = await chatUser("bob");
  const id = await alice.createConversation();
  await readSse(await alice.send(id, { content: "private thoughts" }));
  const leaf = (await alice.api(`/conversations/${id}`)).body.active_leaf_id;

  const attempts: [string, string, unknown?][] = [
    ["GET", `/conversations/${id}`],
    ["PATCH", `/conversations/${id}`, { title: "mine now" }],
    ["DELETE", `/conversations/${id}`],
    ["POST", `/conversations/${id}/pin`],
    ["GET", `/conversations/${id}/messages`],
    ["POST", `/conversations/${id}/messages`, { content: "hello?" }],
    ["POST", `/conversations/${id}/messages/${leaf}/regenerate`, {}],
    ["GET", `/conversations/${id}/messages/${leaf}/stream`],
    ["POST", `/conversations/${id}/messages/${leaf}/stop`],
  ];
  for (const [method, path, json] of attempts) {
    const res = await bob.api(path, { method, json });
    assert.equal(res.status, 404, `${method} ${path} answered ${res.status}`);
    assert.equal(res.body.error.code, "not_found");
  }
  const list = await bob.api("/conversations");
  assert.ok(!list.body.conversations.some((c: { id: string }) => c.id === id));
  const after = (await alice.api(`/conversations/${id}`)).body;
  assert.equal(after.title, "test conversation");
  assert.equal(after.messages.length, 2);
});

Deno.test("RLS blocks direct PostgREST reads and writes of another user's chat rows", async () => {
  const alice = await chatUser("alice");
  const bob = await chatUser("bob");
  const id = await alice.createConversation();
  await readSse(await alice.send(id, { content: "secret" }));

  for (const table of ["conversations", "messages", "usage_ledger"]) {
    const filter = table === "conversations" ? `id=eq.${id}` : `conversation_id=eq.${id}`;
    const read = await rest(bob.token, `/${table}?${filter}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, [], `bob can read alice's ${table}`);
    const mine = await rest(alice.token, `/${table}?${filter}`);
    assert.ok(mine.body.length > 0, `alice cannot read her own ${table}`);
  }
  const update = await rest(bob.token, `/conversations?id=eq.${id}`, {
    method: "PATCH",
    body: JSON.stringify({ title: "pwned" }),
  });
  assert.deepEqual(update.body, []);
  const remove = await rest(bob.token, `/messages?conversation_id=eq.${id}`, { method: "DELETE" });
  assert.ok(remove.status >= 400 || (Array.isArray(remove.body) && remove.body.length === 0));
  const insert = await rest(bob.token, "/messages", {
    method: "POST",
    body: JSON.stringify({ conversation_id: id, role: "user", content: "injected", parts: [] }),
  });
  assert.equal(insert.status, 403);

  // Alice herself cannot forge what the pipeline writes: assistant messages, usage, costs.
  const forged = await rest(alice.token, "/messages", {
    method: "POST",
    body: JSON.stringify({
      conversation_id: id,
      role: "assistant",
      content: "fake reply",
      parts: [],
    }),
  });
  assert.equal(forged.status, 403);
  const cost = await rest(alice.token, `/messages?conversation_id=eq.${id}`, {
    method: "PATCH",
    body: JSON.stringify({ cost_micro_usd: 0 }),
  });
  assert.ok(cost.status === 401 || cost.status === 403, `alice rewrote a cost: ${cost.status}`);
  const ledger = await rest(alice.token, "/usage_ledger", {
    method: "POST",
    body: JSON.stringify({
      call_id: crypto.randomUUID(),
      product_step: "chat",
      provider: "x",
      model: "x",
      provider_model: "x",
      status: "ok",
    }),
  });
  assert.ok(ledger.status === 401 || ledger.status === 403);

  await withDb(async (sql) => {
    const [c] = await sql`select title from public.conversations where id = ${id}`;
    assert.equal(c.title, "test conversation");
    const [{ n }] =
      await sql`select count(*)::int as n from public.messages where conversation_id = ${id}`;
    assert.equal(n, 2);
  });
});

Deno.test("every endpoint rejects bad input with a 4xx JSON error and writes nothing", async () => {
  const alice = await chatUser("alice");
  const id = await alice.createConversation();
  await readSse(await alice.send(id, { content: "hello" }));
  const leaf = (await alice.api(`/conversations/${id}`)).body.active_leaf_id;
  const counts = () =>
    withDb((sql) =>
      sql`select (select count(*) from public.conversations where user_id = ${alice.userId})::int as conversations,
                 (select count(*) from public.messages where user_id = ${alice.userId})::int as messages,
                 (select count(*) from public.usage_ledger where user_id = ${alice.userId})::int as usage,
                 (select md5(string_agg(c::text, '')) from public.conversations c where user_id = ${alice.userId}) as state`
    ).then((r) => r[0]);
  const before = await counts();
  const huge = "x".repeat(100_001);
  const cases: RefusedCase[] = [
    ["POST", "/conversations", { title: 42 }, 400],
    ["POST", "/conversations", { title: "ok", owner: "someone" }, 400],
    ["POST", "/conversations", { model: "no-such-model" }, 422],
    ["POST", "/conversations", { system_prompt: huge }, 400],
    ["GET", "/conversations?limit=0", undefined, 400],
    ["GET", "/conversations?limit=abc", undefined, 400],
    ["GET", "/conversations?cursor=not-a-cursor", undefined, 400],
    ["GET", "/conversations?unknown=1", undefined, 400],
    ["GET", "/conversations/not-a-uuid", undefined, 400],
    ["GET", `/conversations/${crypto.randomUUID()}`, undefined, 404],
    ["PATCH", `/conversations/${id}`, {}, 400],
    ["PATCH", `/conversations/${id}`, { pinned: "yes" }, 400],
    ["PATCH", `/conversations/${id}`, { model: "no-such-model" }, 422],
    ["PATCH", `/conversations/${id}`, { active_leaf_id: crypto.randomUUID() }, 422],
    ["DELETE", "/conversations/123", undefined, 400],
    ["POST", "/conversations/123/pin", undefined, 400],
    ["GET", `/conversations/${id}/messages?before=garbage`, undefined, 400],
    ["GET", `/conversations/${id}/messages?leaf=nope`, undefined, 400],
    ["POST", `/conversations/${id}/messages`, { content: "" }, 400],
    ["POST", `/conversations/${id}/messages`, { content: 5 }, 400],
    ["POST", `/conversations/${id}/messages`, { content: huge }, 400],
    ["POST", `/conversations/${id}/messages`, { content: "hi", extra: true }, 400],
    ["POST", `/conversations/${id}/messages`, { content: "hi", model: "no-such-model" }, 422],
    [
      "POST",
      `/conversations/${id}/messages`,
      { content: "hi", parent_id: crypto.randomUUID() },
      422,
    ],
    ["POST", `/conversations/${id}/messages`, { content: "hi", parent_id: "bad" }, 400],
    ["POST", `/conversations/${id}/messages`, { messages: [] }, 400],
    ["POST", `/conversations/${id}/messages?stream=xml`, { content: "hi" }, 400],
    ["POST", `/conversations/${crypto.randomUUID()}/messages`, { content: "hi" }, 404],
    ["POST", `/conversations/${id}/messages/${leaf}/regenerate`, { model: 1 }, 400],
    ["POST", `/conversations/${id}/messages/${crypto.randomUUID()}/regenerate`, {}, 404],
    ["GET", `/conversations/${id}/messages/bad/stream`, undefined, 400],
    ["POST", `/conversations/${id}/messages/${crypto.randomUUID()}/stop`, undefined, 404],
  ];
  await expectRefused(alice, cases);
  // Wrong content type and malformed JSON.
  const raw = (body: string, type: string) =>
    alice.api(`/conversations/${id}/messages`, {
      method: "POST",
      body,
      headers: { "content-type": type },
    });
  assert.equal((await raw('{"content": "hi"}', "text/plain")).status, 415);
  assert.equal((await raw('{"content": ', "application/json")).status, 400);
  // Sends take inline files (data URLs): their body limit is 32 MiB.
  assert.equal((await raw("x".repeat(32 * 1024 * 1024 + 1), "application/json")).status, 413);

  assert.deepEqual(await counts(), before);
});
