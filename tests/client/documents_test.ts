// The SDK's documents, search and upload against the live test stack.
import assert from "node:assert/strict";
import { fakeReply } from "../_support/chat.ts";
import type { UploadProgress } from "../../packages/client/src/index.ts";
import { failure, userClient } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test("documents: multipart upload reports progress, ingestion ends ready, search finds it", async () => {
  const { aide } = await userClient();
  const word = `zebracorn${crypto.randomUUID().slice(0, 6)}`;
  const text = `Alice: the ${word} launch moves to May 12.\n` +
    "Bob: noted.\n".repeat(20_000);
  const progress: UploadProgress[] = [];
  const created = await aide.documents.upload(
    new Blob([text], { type: "text/plain" }),
    {
      filename: "standup.txt",
      title: "Standup",
      kind: "transcript",
      onProgress: (p) => progress.push(p),
    },
  ) as Any;
  assert.equal(created.title, "Standup");
  assert.ok(
    progress.length > 2,
    `progress reported as the body went out (${progress.length} events)`,
  );
  assert.equal(progress.at(-1)!.loaded, progress.at(-1)!.total);
  assert.ok(
    progress.at(-1)!.total > text.length,
    "total is the whole multipart body",
  );

  const statuses: string[] = [];
  const ready = await aide.documents.waitUntilReady(created.id, {
    onStatus: (s) => statuses.push(s),
  }) as Any;
  assert.equal(ready.status, "ready");
  assert.ok(ready.chunk_count > 0);

  const found = await aide.search({ q: word, kinds: ["transcript"] }) as Any;
  assert.equal(
    found.results[0].document_id ?? found.results[0].documentId,
    created.id,
  );
  const none = await aide.search({ q: word, kinds: ["note"] }) as Any;
  assert.ok(
    none.results.every((r: Any) => r.document_id !== created.id),
    "the kinds filter is sent",
  );

  const listed = await aide.documents.list({ q: "Stand" }) as Any;
  assert.deepEqual(listed.documents.map((d: Any) => d.id), [created.id]);
  const renamed = await aide.documents.update(created.id, {
    title: "Standup notes",
  }) as Any;
  assert.equal(renamed.title, "Standup notes");
  await aide.documents.delete(created.id);
  await assert.rejects(aide.documents.get(created.id), { status: 404 });
});

Deno.test("documents: a mentioned document is cited in the reply", async () => {
  const { aide } = await userClient();
  const doc = await aide.documents.create({
    title: "Budget",
    content: "The budget is 40k for Q3.",
  }) as Any;
  await aide.documents.waitUntilReady(doc.id);
  const { id } = await aide.conversations.create() as Any;
  const reply = await aide.streamSimple(id, {
    content: `What is the budget? ${fakeReply("It is 40k.")}`,
    mentions: [doc.id],
  }).text();
  assert.equal(reply.text, "It is 40k.");
  assert.deepEqual(reply.citations.map((c) => [c.documentId, c.title]), [[
    doc.id,
    "Budget",
  ]]);
});

Deno.test("documents: a refused upload is an AideError with the API's code (415)", async () => {
  const { aide } = await userClient();
  const error = await failure(
    aide.documents.upload(new Blob([new Uint8Array([0, 1, 2])]), {
      filename: "x.exe",
    }),
  );
  assert.equal(error.status, 415);
});
