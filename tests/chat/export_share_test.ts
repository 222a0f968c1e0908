// Export (JSON and Markdown) and share links: a frozen copy readable without signing in by its
// token, never showing what came after it, without private document parts unless chosen, and
// gone once revoked or once the conversation is deleted.
import assert from "node:assert/strict";
import { chatUser, marker, readSse, withDb } from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";

const sha256Hex = async (text: string) =>
  Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");

/** GET /shared/:token as a stranger: no JWT, no apikey. */
const readShared = async (token: string) => {
  const res = await fetch(`${FUNCTIONS_URL}/shared/${token}`);
  return { status: res.status, body: await res.json() };
};

Deno.test("export gives the active branch as JSON or Markdown, and only to its owner", async () => {
  const alice = await chatUser("export");
  const question = marker("What is the capital of Portugal");
  const conversation = await alice.createConversation({ title: "Trip: Lisbon & more" });
  await readSse(await alice.send(conversation, { content: question }));
  await readSse(await alice.send(conversation, { content: "And of Spain?" }));
  const { body: stored } = await alice.api(`/conversations/${conversation}`);

  const asJson = await alice.api(`/conversations/${conversation}/export?format=json`);
  assert.equal(asJson.status, 200);
  assert.match(
    asJson.headers.get("content-disposition") ?? "",
    /attachment; filename="trip-lisbon-more\.json"/,
  );
  assert.equal(asJson.body.conversation.id, conversation);
  assert.equal(asJson.body.truncated, false);
  assert.deepEqual(
    asJson.body.messages.map((m: { id: string }) => m.id),
    stored.messages.map((m: { id: string }) => m.id),
  );
  assert.deepEqual(asJson.body.messages.map((m: { role: string }) => m.role), [
    "user",
    "assistant",
    "user",
    "assistant",
  ]);

  const md = await alice.api(`/conversations/${conversation}/export?format=markdown`);
  assert.equal(md.status, 200);
  assert.match(md.headers.get("content-type") ?? "", /^text\/markdown/);
  const text = md.text as string;
  assert.ok(text.startsWith("# Trip: Lisbon & more\n"), text.slice(0, 80));
  assert.equal(text.match(/^## User$/gm)?.length, 2);
  assert.equal(text.match(/^## Assistant \(/gm)?.length, 2);
  assert.ok(text.includes(question));
  assert.ok(text.includes(stored.messages[1].content), "the reply's text is in the file");

  const bob = await chatUser("export");
  assert.equal((await bob.api(`/conversations/${conversation}/export`)).status, 404);
  assert.equal((await alice.api(`/conversations/${conversation}/export?format=pdf`)).status, 400);
});

Deno.test("a share link shows the snapshot to anyone with the token, nothing after it, until revoked", async () => {
  const alice = await chatUser("share");
  const conversation = await alice.createConversation({ title: "Shared trip" });
  await readSse(await alice.send(conversation, { content: "Plan a day in Porto" }));
  const { body: before } = await alice.api(`/conversations/${conversation}`);

  const made = await alice.api(`/conversations/${conversation}/share`, { method: "POST" });
  assert.equal(made.status, 201);
  assert.match(made.body.token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(made.body.url, `${FUNCTIONS_URL}/shared/${made.body.token}`);
  assert.equal(made.body.message_count, 2);

  // Only the token's hash is stored.
  const [row] = await withDb((sql) =>
    sql`select token_hash, s::text as whole from public.conversation_shares s where id = ${made.body.id}`
  );
  assert.equal(row.token_hash, await sha256Hex(made.body.token));
  assert.ok(!row.whole.includes(made.body.token));

  // Written after the snapshot: never shown.
  await readSse(await alice.send(conversation, { content: "Now add a second day" }));
  const shared = await readShared(made.body.token);
  assert.equal(shared.status, 200);
  assert.equal(shared.body.title, "Shared trip");
  assert.deepEqual(
    shared.body.messages.map((m: { id: string; content: string }) => [m.id, m.content]),
    before.messages.map((m: { id: string; content: string }) => [m.id, m.content]),
  );
  assert.ok(!JSON.stringify(shared.body).includes("second day"));
  assert.ok(!("user_id" in shared.body) && !("conversation_id" in shared.body));

  // Unknown and malformed tokens look the same.
  assert.equal((await readShared("A".repeat(43))).status, 404);
  assert.equal((await readShared("short")).status, 404);

  // Listed for the owner (never with a token); another user can neither list nor revoke it.
  const listed = await alice.api(`/conversations/${conversation}/shares`);
  assert.deepEqual(listed.body.shares.map((s: { id: string }) => s.id), [made.body.id]);
  assert.ok(!JSON.stringify(listed.body).includes(made.body.token));
  const bob = await chatUser("share");
  const path = `/conversations/${conversation}/shares/${made.body.id}`;
  assert.equal((await bob.api(path, { method: "DELETE" })).status, 404);
  assert.equal(
    (await bob.api(`/conversations/${conversation}/share`, { method: "POST" })).status,
    404,
  );
  assert.equal((await readShared(made.body.token)).status, 200);

  assert.equal((await alice.api(path, { method: "DELETE" })).status, 204);
  assert.equal((await readShared(made.body.token)).status, 404);
  assert.equal((await alice.api(path, { method: "DELETE" })).status, 404);

  // Deleting the conversation ends every link to it.
  const again = await alice.api(`/conversations/${conversation}/share`, { method: "POST" });
  assert.equal((await readShared(again.body.token)).status, 200);
  await alice.api(`/conversations/${conversation}`, { method: "DELETE" });
  assert.equal((await readShared(again.body.token)).status, 404);
});

Deno.test("a share leaves out mentioned documents and citations unless include_attachments", async () => {
  const alice = await chatUser("share");
  const conversation = await alice.createConversation({ title: "With sources" });
  const docId = crypto.randomUUID();
  await withDb(async (sql) => {
    const [q] = await sql`
      insert into public.messages (conversation_id, user_id, role, content, parts)
      values (${conversation}, ${alice.userId}, 'user', 'Summarise my notes',
              ${
      sql.json([{ type: "text", text: "Summarise my notes" }, {
        type: "file",
        document_id: docId,
        title: "Salary review",
      }])
    }) returning id`;
    const [a] = await sql`
      insert into public.messages (conversation_id, user_id, parent_id, role, content, parts, model)
      values (${conversation}, ${alice.userId}, ${q.id}, 'assistant', 'Here is the summary.',
              ${
      sql.json([{ type: "text", text: "Here is the summary." }, {
        type: "citation",
        document_id: docId,
        chunk_index: 0,
        title: "Salary review",
        snippet: "private numbers",
      }])
    }, 'gpt-5.2') returning id`;
    await sql`update public.conversations set active_leaf_id = ${a.id} where id = ${conversation}`;
  });

  const plain = await alice.api(`/conversations/${conversation}/share`, { method: "POST" });
  const withFiles = await alice.api(`/conversations/${conversation}/share`, {
    method: "POST",
    json: { include_attachments: true },
  });
  assert.equal(withFiles.body.include_attachments, true);
  const types = (body: { messages: { parts: { type: string }[] }[] }) =>
    body.messages.map((m) => m.parts.map((p) => p.type));
  const hidden = await readShared(plain.body.token);
  assert.deepEqual(types(hidden.body), [["text"], ["text"]]);
  assert.ok(!JSON.stringify(hidden.body).includes("Salary review"));
  assert.ok(!JSON.stringify(hidden.body).includes("private numbers"));
  const shown = await readShared(withFiles.body.token);
  assert.deepEqual(types(shown.body), [["text", "file"], ["text", "citation"]]);
});
