// The SDK against the live test stack: conversations, streaming, stop, resume, regenerate,
// edit and branch switching. Each test checks what the API stored, not only what came back.
import assert from "node:assert/strict";
import { fakeReply, marker, queueScript } from "../_support/chat.ts";
import { connect } from "../_support/stack.ts";
import { AideError, type SimpleEvent } from "../../packages/client/src/index.ts";
import { failure, userClient } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test("conversations: create, list with sidebar groups, get, update, pin, delete", async () => {
  const { aide } = await userClient();
  const created = await aide.conversations.create({
    title: "Lisbon trip",
  }) as Any;
  assert.equal(created.title, "Lisbon trip");
  await aide.conversations.create({ title: "Groceries" });

  const listed = await aide.conversations.list({ q: "lisb" }) as Any;
  assert.deepEqual(listed.conversations.map((c: Any) => c.title), [
    "Lisbon trip",
  ]);
  assert.equal(listed.conversations[0].group, "today");

  const renamed = await aide.conversations.update(created.id, {
    title: "Porto trip",
  }) as Any;
  assert.equal(renamed.title, "Porto trip");
  const pinned = await aide.conversations.pin(created.id) as Any;
  assert.equal(pinned.pinned, true);
  const sidebar = await aide.conversations.list() as Any;
  assert.equal(sidebar.conversations[0].id, created.id);
  assert.equal(sidebar.conversations[0].group, "pinned");

  await aide.conversations.delete(created.id);
  const error = await failure(aide.conversations.get(created.id));
  assert.ok(error instanceof AideError);
  assert.equal(error.status, 404);
  assert.equal(error.code, "not_found");
});

Deno.test("AideError carries the API's status, code, message and details", async () => {
  const { aide } = await userClient();
  const error = await failure(aide.conversations.create({ title: "" }));
  assert.ok(error instanceof AideError);
  assert.equal(error.status, 400);
  assert.equal(typeof error.code, "string");
  assert.ok(error.message.length > 0);
  assert.ok(error.requestId, "the request id, to find the request in the logs");

  const { createAideClient } = await import(
    "../../packages/client/src/index.ts"
  );
  const { env } = await import("../_support/stack.ts");
  const anonymous = createAideClient({
    url: env.SUPABASE_URL,
    accessToken: "not-a-jwt",
  });
  const denied = await failure(anonymous.conversations.list());
  assert.ok(denied instanceof AideError);
  assert.equal(denied.status, 401);
  assert.equal(denied.code, "unauthorized");
});

Deno.test("streamSimple: tokens arrive one by one, then done; the reply is stored", async () => {
  const { aide } = await userClient();
  const { id } = await aide.conversations.create() as Any;
  const events: SimpleEvent[] = [];
  for await (
    const event of aide.streamSimple(id, {
      content: `Hi ${fakeReply("one two three four")}`,
    })
  ) {
    events.push(event);
  }
  const tokens = events.filter((e) => e.type === "token");
  assert.ok(tokens.length >= 4, `several token events, got ${tokens.length}`);
  assert.equal(tokens.map((e) => e.content).join(""), "one two three four");
  const done = events.at(-1) as Extract<SimpleEvent, { type: "done" }>;
  assert.equal(done.type, "done");

  const conversation = await aide.conversations.get(id) as Any;
  const reply = conversation.messages.at(-1);
  assert.equal(reply.id, done.message_id);
  assert.equal(reply.status, "complete");
  assert.equal(reply.content, "one two three four");
});

Deno.test("SimpleStream.stop() stops the reply: stored aborted, partial text kept", async () => {
  const { aide } = await userClient();
  const { id } = await aide.conversations.create() as Any;
  const long = Array.from({ length: 400 }, (_, i) => `w${i}`).join(" ");
  const stream = aide.streamSimple(id, {
    content: `Go ${fakeReply(long, 40)}`,
  });
  let text = "";
  for await (const event of stream) {
    if (event.type === "token") text += event.content;
    if (text.length > 20) break;
  }
  const stopped = await stream.stop() as Any;
  assert.equal(stopped.status, "aborted");
  assert.ok(stopped.content.length > 0 && stopped.content.length < long.length);
  const conversation = await aide.conversations.get(id) as Any;
  assert.equal(conversation.messages.at(-1).status, "aborted");
});

Deno.test("resume: a reply left by closing the connection is followed to its end", async () => {
  const { aide } = await userClient();
  const { id } = await aide.conversations.create() as Any;
  const text = Array.from({ length: 60 }, (_, i) => `t${i}`).join(" ");
  const stream = aide.streamSimple(id, {
    content: `Go ${fakeReply(text, 60)}`,
  });
  for await (const event of stream) if (event.type === "token") break;
  stream.abort(); // the tab closes; the reply goes on
  const running = await aide.conversations.runningReply(id);
  assert.ok(running, "the reply is still being generated");
  const resumed = await aide.conversations.resume(id, running).text();
  assert.equal(resumed.text, text);
  assert.equal(resumed.messageId, running);
});

Deno.test("regenerate, edit and switchBranch: siblings, nothing deleted, branch switches", async () => {
  const { aide } = await userClient();
  const { id } = await aide.conversations.create() as Any;
  const first = await aide.streamSimple(id, {
    content: `Q1 ${fakeReply("answer one")}`,
  }).text();
  const again = await aide.conversations.regenerate(id, first.messageId!)
    .text();
  assert.notEqual(again.messageId, first.messageId);

  const sql = connect();
  try {
    const rows =
      await sql`select id, parent_id, role from public.messages where conversation_id = ${id}`;
    const question = rows.find((m) => m.role === "user")!;
    const answer1 = rows.find((m) => m.id === first.messageId)!;
    const answer2 = rows.find((m) => m.id === again.messageId)!;
    assert.equal(answer1.parent_id, question.id);
    assert.equal(
      answer2.parent_id,
      question.id,
      "the regenerated reply is a sibling",
    );

    // Edit the question: a sibling user message (same parent: none) with its own reply.
    const edited = await aide.conversations.edit(
      id,
      { parent_id: null },
      `Q1 edited ${fakeReply("answer edited")}`,
    )
      .text();
    assert.equal(edited.text, "answer edited");
    const [newQuestion] = await sql`select id, parent_id from public.messages
                                    where conversation_id = ${id} and role = 'user' and id <> ${question.id}`;
    assert.equal(newQuestion.parent_id, null);
    assert.equal(
      (await sql`select count(*)::int as n from public.messages where conversation_id = ${id}`)[
        0
      ].n,
      5,
    );

    let conversation = await aide.conversations.get(id) as Any;
    assert.equal(conversation.active_leaf_id, edited.messageId);
    await aide.conversations.switchBranch(id, answer1.id);
    conversation = await aide.conversations.get(id) as Any;
    assert.equal(conversation.active_leaf_id, answer1.id);
    assert.deepEqual(conversation.messages.map((m: Any) => m.id), [
      question.id,
      answer1.id,
    ]);
  } finally {
    await sql.end();
  }
});

Deno.test("artifacts: the files a reply's tool made, listed and downloaded; another user's are 404", async () => {
  const { aide } = await userClient();
  const { id } = await aide.conversations.create() as Any;
  const tag = marker("sdkfile");
  await queueScript("anthropic", {
    tool_calls: [{
      name: "create_artifact",
      arguments: { path: "todo.md", content: "- [ ] pack" },
    }],
  }, { contains: tag });
  for await (
    const _ of aide.streamSimple(id, { content: `A file please ${tag}` })
  ) { /* to the end */ }

  const { artifacts } = await aide.conversations.artifacts(id) as Any;
  assert.deepEqual(artifacts.map((a: Any) => [a.path, a.mime, a.size]), [[
    "todo.md",
    "text/markdown",
    10,
  ]]);
  const file = await aide.conversations.downloadArtifact(id, artifacts[0].id);
  assert.equal(await file.text(), "- [ ] pack");
  assert.match(file.type, /^text\/markdown/);

  const { aide: other } = await userClient();
  const error = await failure(other.conversations.downloadArtifact(id, artifacts[0].id));
  assert.equal(error.status, 404);
  assert.equal(error.code, "not_found");
});
