// Artifacts: files the chat model makes with the create_artifact tool. The fake provider is
// scripted to call the tool; the file must land in Storage (bucket chat-artifacts, as the
// owner) with a matching row, ride on the reply as an `artifact` part (live, replayed, in the
// GET endpoints, export and shares), download for its owner only, and be refused with nothing
// stored past the limits or when Storage or the row fails.
import assert from "node:assert/strict";
import {
  type ChatUser,
  chatUser,
  type Chunk,
  marker,
  queueScript,
  readSse,
  withDb,
} from "../_support/chat.ts";
import { env, FUNCTIONS_URL, rest } from "../_support/stack.ts";

const sha256Hex = async (bytes: Uint8Array<ArrayBuffer>) =>
  Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");

type ToolCall = { name: string; arguments: Record<string, unknown>; id?: string };

/** Sends a message whose reply calls the tools given (one step), then ends with `closing`. */
async function replyWithTools(
  user: ChatUser,
  conversationId: string,
  calls: ToolCall[],
  query = "",
) {
  const tag = marker("artifact");
  await queueScript("anthropic", { tool_calls: calls }, { contains: tag });
  await queueScript("anthropic", { text: "Done." }, { contains: tag });
  const chunks = await readSse(
    await user.send(conversationId, { content: `Make the files ${tag}` }, query),
  ) as Chunk[];
  const [message] = await withDb((sql) =>
    sql`select id, status, parts from public.messages
        where conversation_id = ${conversationId} and role = 'assistant'
        order by created_at desc limit 1`
  );
  return { chunks, message };
}

const storedObjects = (userId: string) =>
  withDb((sql) =>
    sql`select name, owner, (metadata ->> 'size')::int as size from storage.objects
        where bucket_id = 'chat-artifacts' and owner_id = ${userId} order by name`.then((
      r,
    ) => [...r])
  );

const artifactRows = (userId: string) =>
  withDb((sql) =>
    sql`select * from public.artifacts where user_id = ${userId} order by created_at`
      .then((r) => [...r])
  );

const setting = (key: string) =>
  withDb((sql) =>
    sql`select value from public.app_settings where key = ${key}`.then(([r]) => Number(r.value))
  );

Deno.test("the model makes a file: stored as the owner with its sha256, on the reply live, replayed and listed, downloadable by its owner only", async () => {
  const alice = await chatUser("artifacts");
  const conversation = await alice.createConversation({ title: "Artifacts" });
  const content = `# Plan\n\n- día 1: Lisboa ${marker()}\n`;
  const bytes = new TextEncoder().encode(content);
  const { chunks, message } = await replyWithTools(alice, conversation, [
    { name: "create_artifact", arguments: { path: "notes/plan.md", content } },
  ]);
  assert.equal(message.status, "complete");

  // The row and the object agree with the content.
  const [row] = await artifactRows(alice.userId);
  assert.equal(row.message_id, message.id);
  assert.equal(row.conversation_id, conversation);
  assert.deepEqual([row.kind, row.path, row.mime], ["file", "notes/plan.md", "text/markdown"]);
  assert.equal(Number(row.size), bytes.byteLength);
  assert.equal(row.sha256, await sha256Hex(bytes));
  const objects = await storedObjects(alice.userId);
  assert.deepEqual(objects, [{
    name: row.object_path,
    owner: alice.userId,
    size: bytes.byteLength,
  }]);
  assert.ok(row.object_path.startsWith(`${alice.userId}/${row.id}/`));

  // The reply's parts: the call, the artifact, the tool's result, then the text.
  const expected = {
    type: "artifact",
    id: row.id,
    tool_call_id: row.tool_call_id,
    kind: "file",
    path: "notes/plan.md",
    mime: "text/markdown",
    size: bytes.byteLength,
    sha256: row.sha256,
  };
  assert.deepEqual(
    message.parts.map((p: { type: string }) => p.type),
    ["step_start", "tool_call", "artifact", "tool_result", "step_start", "text"],
  );
  assert.deepEqual(message.parts[2], expected);
  // The text is in the file, not in the message: the call's stored input names the artifact.
  assert.deepEqual(message.parts[1].input, {
    path: "notes/plan.md",
    kind: "file",
    mime: "text/markdown",
    artifact_id: row.id,
  });
  assert.ok(!JSON.stringify(message.parts).includes(content.trim().slice(-12)));
  const result = message.parts[3];
  assert.equal(result.is_error, false);
  assert.equal(result.output.id, row.id);
  assert.equal(result.output.sha256, row.sha256);

  // Live: a data-artifact chunk with the part's fields; replay sends the same chunk.
  const { type: _, ...data } = expected;
  const live = chunks.filter((c) => c.type === "data-artifact");
  assert.deepEqual(live, [{ type: "data-artifact", id: row.id, data }]);
  const replayed = await readSse(
    await fetch(`${FUNCTIONS_URL}/conversations/${conversation}/messages/${message.id}/stream`, {
      headers: { authorization: `Bearer ${alice.token}` },
    }),
  ) as Chunk[];
  assert.deepEqual(replayed.filter((c) => c.type === "data-artifact"), live);
  const simple = await readSse(
    await fetch(
      `${FUNCTIONS_URL}/conversations/${conversation}/messages/${message.id}/stream?stream=simple`,
      { headers: { authorization: `Bearer ${alice.token}` } },
    ),
  ) as Chunk[];
  assert.deepEqual(simple.filter((c) => c.type === "data"), [
    { type: "data", name: "artifact", id: row.id, data },
  ]);

  // The GET endpoints show it on the message, and the list has it.
  const full = await alice.api(`/conversations/${conversation}`);
  assert.deepEqual(full.body.messages.at(-1).parts[2], expected);
  const page = await alice.api(`/conversations/${conversation}/messages`);
  assert.deepEqual(page.body.messages.at(-1).parts[2], expected);
  const list = await alice.api(`/conversations/${conversation}/artifacts`);
  assert.equal(list.status, 200);
  assert.equal(list.body.next_cursor, null);
  assert.deepEqual(list.body.artifacts, [{
    ...data,
    conversation_id: conversation,
    message_id: message.id,
    created_at: list.body.artifacts[0].created_at,
  }]);

  // The owner downloads the bytes.
  const download = await fetch(
    `${FUNCTIONS_URL}/conversations/${conversation}/artifacts/${row.id}`,
    { headers: { authorization: `Bearer ${alice.token}` } },
  );
  assert.equal(download.status, 200);
  assert.equal(download.headers.get("content-type"), "text/markdown; charset=utf-8");
  assert.match(
    download.headers.get("content-disposition") ?? "",
    /^attachment; filename="plan\.md"/,
  );
  assert.equal(download.headers.get("etag"), `"${row.sha256}"`);
  const downloaded = new Uint8Array(await download.arrayBuffer());
  assert.equal(await sha256Hex(downloaded), row.sha256);
  assert.equal(new TextDecoder().decode(downloaded), content);

  // Nobody else: not through the function, PostgREST or Storage.
  const bob = await chatUser("artifacts");
  for (const path of [`/${row.id}`, ""]) {
    const res = await bob.api(`/conversations/${conversation}/artifacts${path}`);
    assert.equal(res.status, 404, path);
    assert.equal(res.body.error.code, "not_found");
  }
  assert.equal(
    (await alice.api(`/conversations/${conversation}/artifacts/${crypto.randomUUID()}`)).status,
    404,
  );
  assert.deepEqual((await rest(bob.token, `/artifacts?id=eq.${row.id}`)).body, []);
  const forged = await rest(alice.token, "/artifacts", {
    method: "POST",
    body: JSON.stringify({ ...data, id: crypto.randomUUID(), object_path: "x" }),
  });
  assert.ok([401, 403].includes(forged.status), `insert through PostgREST: ${forged.status}`);
  const stolen = await fetch(
    `${env.SUPABASE_URL}/storage/v1/object/chat-artifacts/${row.object_path}`,
    { headers: { authorization: `Bearer ${bob.token}`, apikey: env.SUPABASE_ANON_KEY } },
  );
  assert.ok(stolen.status >= 400, `Storage gave bob the file: ${stolen.status}`);
  await stolen.body?.cancel();

  // Export names it; a share leaves it out unless attachments are included.
  const md = await alice.api(`/conversations/${conversation}/export?format=markdown`);
  assert.ok(md.text.includes(`File \`notes/plan.md\``), md.text);
  assert.ok(md.text.includes(row.sha256));
  for (const include_attachments of [false, true]) {
    const share = await alice.api(`/conversations/${conversation}/share`, {
      method: "POST",
      json: { include_attachments },
    });
    const shared = await fetch(share.body.url).then((r) => r.json());
    const parts = shared.messages.at(-1).parts.filter((p: { type: string }) =>
      p.type === "artifact"
    );
    // With attachments, the reader gets a link to it under the share (share_files_test.ts).
    const url = `${share.body.url}/files/${row.id}`;
    assert.deepEqual(
      parts,
      include_attachments ? [{ ...expected, url }] : [],
      `${include_attachments}`,
    );
  }

  // Deleting the conversation removes its files and their rows at once.
  assert.equal(
    (await alice.api(`/conversations/${conversation}`, { method: "DELETE" })).status,
    204,
  );
  assert.equal(
    (await alice.api(`/conversations/${conversation}/artifacts/${row.id}`)).status,
    404,
  );
  assert.deepEqual(await artifactRows(alice.userId), []);
  assert.deepEqual(await storedObjects(alice.userId), []);
});

Deno.test("a diff, and a media type from the extension or given", async () => {
  const alice = await chatUser("artifacts");
  const conversation = await alice.createConversation();
  const diff = "--- a/app.ts\n+++ b/app.ts\n@@ -1 +1 @@\n-old\n+new\n";
  const { message } = await replyWithTools(alice, conversation, [
    { name: "create_artifact", arguments: { path: "app.ts", kind: "file_diff", content: diff } },
    { name: "create_artifact", arguments: { path: "data.csv", content: "a,b\n1,2\n" } },
    {
      name: "create_artifact",
      arguments: { path: "README", content: "hi", mime: "text/markdown" },
    },
  ]);
  const made = message.parts.filter((p: { type: string }) => p.type === "artifact")
    .map((p: { kind: string; path: string; mime: string }) => [p.kind, p.path, p.mime]);
  assert.deepEqual(made, [
    ["file_diff", "app.ts", "text/x-diff"],
    ["file", "data.csv", "text/csv"],
    ["file", "README", "text/markdown"],
  ]);
  assert.equal((await storedObjects(alice.userId)).length, 3);
});

Deno.test("limits and bad input: named errors the model reads, and nothing stored", async () => {
  const alice = await chatUser("artifacts");
  const conversation = await alice.createConversation();
  const maxPerReply = await setting("chat.max_artifacts_per_reply");
  // A small size limit for this test (only artifact tests make files): the fake streams tool
  // input in small fragments, and a reply step's output cap keeps real files small anyway.
  const maxBytes = 1000;
  const setMaxBytes = (n: number) =>
    withDb((sql) =>
      sql`update public.app_settings set value = ${
        sql.json(n)
      } where key = 'chat.artifact_max_bytes'`
    );
  const defaultMaxBytes = await setting("chat.artifact_max_bytes");

  const refusals = async (calls: ToolCall[]) => {
    const { chunks, message } = await replyWithTools(alice, conversation, calls);
    assert.equal(message.status, "complete");
    const errors = chunks.filter((c) => c.type === "tool-output-error");
    const results = message.parts.filter((p: { type: string }) => p.type === "tool_result");
    return { errors, results, message };
  };

  // Too large (one byte over, in UTF-8: "é" is two bytes), and paths that are not relative.
  await setMaxBytes(maxBytes);
  const big = await refusals([
    {
      name: "create_artifact",
      arguments: { path: "big.txt", content: "é".repeat(Math.floor(maxBytes / 2)) + "x" },
    },
    { name: "create_artifact", arguments: { path: "../etc/passwd", content: "x" } },
    { name: "create_artifact", arguments: { path: "/abs.txt", content: "x" } },
    {
      name: "create_artifact",
      arguments: { path: "a.exe", content: "x", mime: "application/x-msdownload" },
    },
  ]);
  await setMaxBytes(defaultMaxBytes);
  assert.equal(big.errors.length, 4);
  assert.equal(big.results[0].output.code, "artifact_too_large");
  assert.deepEqual(big.results[0].output.details, { size: maxBytes + 1, max_bytes: maxBytes });
  assert.ok(big.results.every((r: { is_error: boolean }) => r.is_error));
  assert.deepEqual(await artifactRows(alice.userId), []);
  assert.deepEqual(await storedObjects(alice.userId), []);

  // One reply makes at most chat.max_artifacts_per_reply files.
  const calls = Array.from({ length: maxPerReply + 1 }, (_, i) => ({
    name: "create_artifact",
    arguments: { path: `f${i}.txt`, content: `file ${i}` },
  }));
  const many = await refusals(calls);
  assert.equal(many.errors.length, 1);
  assert.equal(many.results.at(-1).output.code, "too_many_artifacts");
  assert.equal(
    many.message.parts.filter((p: { type: string }) => p.type === "artifact").length,
    maxPerReply,
  );
  assert.equal((await artifactRows(alice.userId)).length, maxPerReply);
  assert.equal((await storedObjects(alice.userId)).length, maxPerReply);

  // The list pages through them in order, a cursor at a time.
  const seen: string[] = [];
  let cursor = "";
  for (let pages = 0;; pages++) {
    const page = await alice.api(
      `/conversations/${conversation}/artifacts?limit=4${cursor ? `&cursor=${cursor}` : ""}`,
    );
    assert.equal(page.status, 200, page.text);
    seen.push(...page.body.artifacts.map((a: { path: string }) => a.path));
    if (!page.body.next_cursor) break;
    assert.ok(pages < maxPerReply, "the cursor never ends");
    cursor = page.body.next_cursor;
  }
  assert.deepEqual(seen, calls.slice(0, maxPerReply).map((c) => c.arguments.path));
  const badCursor = await alice.api(`/conversations/${conversation}/artifacts?cursor=nope`);
  assert.equal(badCursor.status, 400);
  assert.equal(badCursor.body.error.code, "invalid_cursor");
});

Deno.test("nothing half-written: a refused upload leaves no row, a refused row leaves no object", async () => {
  const alice = await chatUser("artifacts");
  const conversation = await alice.createConversation();

  // Storage refuses the object (the bucket's size limit, lowered for this test).
  await withDb((sql) =>
    sql`update storage.buckets set file_size_limit = 4 where id = 'chat-artifacts'`
  );
  let upload;
  try {
    upload = await replyWithTools(alice, conversation, [
      { name: "create_artifact", arguments: { path: "five.txt", content: "12345" } },
    ]);
  } finally {
    await withDb((sql) =>
      sql`update storage.buckets set file_size_limit = 10485760 where id = 'chat-artifacts'`
    );
  }
  const failed = upload.message.parts.find((p: { type: string }) => p.type === "tool_result");
  assert.equal(failed.output.code, "storage_failed");
  assert.deepEqual(await artifactRows(alice.userId), []);
  assert.deepEqual(await storedObjects(alice.userId), []);

  // The row is refused (a tool call id longer than the table allows): the object goes too.
  const row = await replyWithTools(alice, conversation, [
    {
      id: `toolu_${"x".repeat(220)}`,
      name: "create_artifact",
      arguments: { path: "a.txt", content: "a" },
    },
  ]);
  const refused = row.message.parts.find((p: { type: string }) => p.type === "tool_result");
  assert.equal(refused.is_error, true);
  assert.equal(refused.output.code, "not_saved");
  assert.ok(!JSON.stringify(refused.output).includes("constraint"), "no database detail");
  assert.deepEqual(await artifactRows(alice.userId), []);
  assert.deepEqual(await storedObjects(alice.userId), []);
});

Deno.test("GDPR: the export lists artifacts and their files; deleting the account removes the files", async () => {
  const alice = await chatUser("artifacts");
  const conversation = await alice.createConversation();
  await replyWithTools(alice, conversation, [
    { name: "create_artifact", arguments: { path: "keep.md", content: "# mine" } },
  ]);
  const [row] = await artifactRows(alice.userId);
  const exported = await alice.api("/account/export");
  assert.equal(exported.status, 200);
  assert.deepEqual(exported.body.data.artifacts.map((a: { id: string }) => a.id), [row.id]);
  assert.ok(
    exported.body.files.some((f: { bucket_id: string; name: string }) =>
      f.bucket_id === "chat-artifacts" && f.name === row.object_path
    ),
  );

  const deleted = await alice.api("/account", { method: "DELETE", json: { confirm: "DELETE" } });
  assert.equal(deleted.status, 204, deleted.text);
  assert.deepEqual(await storedObjects(alice.userId), []);
  assert.deepEqual(await artifactRows(alice.userId), []);
});

Deno.test("the inbox's chat intent makes files too (POST /prompts)", async () => {
  const alice = await chatUser("artifacts");
  const tag = marker("inboxfile");
  await queueScript("anthropic", {
    tool_calls: [{ name: "create_artifact", arguments: { path: "digest.md", content: "# Inbox" } }],
  }, { contains: tag });
  const res = await alice.api("/prompts", {
    method: "POST",
    json: { prompt: `Save a digest ${tag}`, context: { intent: "chat" } },
  });
  assert.equal(res.status, 200, res.text);
  const [row] = await artifactRows(alice.userId);
  assert.equal(row?.path, "digest.md");
  assert.equal(row.conversation_id, res.body.response.conversation_id);
  assert.equal((await storedObjects(alice.userId)).length, 1);
});
