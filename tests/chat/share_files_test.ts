// Files of a share link. A share made with include_attachments gives each attachment and artifact
// a link under the share (GET /shared/:token/files/:id) that downloads the exact bytes without
// signing in, reaches nothing the frozen copy does not name, and stops at once when the share is
// revoked. Whatever the share, its reader never sees a storage path or the owner's user id.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type ChatUser, chatUser, marker, queueScript, readSse, withDb } from "../_support/chat.ts";
import { pdfWith } from "../_support/pdf.ts";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
const PDF = pdfWith("Shared report: margin 17");
const sha256 = async (bytes: Uint8Array) =>
  Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");

type SharedPart = { type: string; id?: string; url?: string; sha256?: string; path?: string };

const upload = (user: ChatUser, conversation: string, file: File) => {
  const form = new FormData();
  form.append("file", file);
  return user.api(`/conversations/${conversation}/attachments`, { method: "POST", body: form });
};

/** A stranger's download: no JWT, no apikey. */
const download = async (url: string) => {
  const res = await fetch(url);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes };
};

const share = async (user: ChatUser, conversation: string, include_attachments: boolean) => {
  const made = await user.api(`/conversations/${conversation}/share`, {
    method: "POST",
    json: { include_attachments },
  });
  assert.equal(made.status, 201, made.text);
  const res = await fetch(made.body.url);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { id: made.body.id, url: made.body.url as string, text, body: JSON.parse(text) };
};

const partsOf = (body: { messages: { parts: SharedPart[] }[] }, ...types: string[]) =>
  body.messages.flatMap((m) => m.parts).filter((p) => types.includes(p.type));

/** A conversation with an image and a PDF sent by Alice, then an artifact the model made. */
async function conversationWithFiles(alice: ChatUser) {
  const conversation = await alice.createConversation({ model: "claude-sonnet-4.6" });
  const ids = [];
  for (
    const file of [
      new File([PNG], "photo.png", { type: "image/png" }),
      new File([PDF as Uint8Array<ArrayBuffer>], "report.pdf", { type: "application/pdf" }),
    ]
  ) {
    const uploaded = await upload(alice, conversation, file);
    assert.equal(uploaded.status, 201, uploaded.text);
    ids.push(uploaded.body.id);
  }
  await readSse(await alice.send(conversation, { content: "Look at these", attachments: ids }));

  const tag = marker("shared-artifact");
  const artifact = `# Shared plan ${tag}\n`;
  await queueScript("anthropic", {
    tool_calls: [{
      name: "create_artifact",
      arguments: { path: "plan/day.md", content: artifact },
    }],
  }, { contains: tag });
  await queueScript("anthropic", { text: "Done." }, { contains: tag });
  await readSse(await alice.send(conversation, { content: `Write the plan ${tag}` }));
  return { conversation, artifact: new TextEncoder().encode(artifact) };
}

Deno.test("a share with attachments links its files under the share: exact bytes, no path or owner id, nothing else reachable, gone when revoked", async () => {
  const alice = await chatUser("sharefiles");
  const { conversation, artifact } = await conversationWithFiles(alice);
  const shared = await share(alice, conversation, true);

  // The reader never sees the owner's id or a storage path, anywhere in the answer.
  assert.ok(!shared.text.includes(alice.userId), "the owner's id is in the shared answer");
  const files = partsOf(shared.body, "attachment", "artifact");
  assert.deepEqual(files.map((p) => p.type), ["attachment", "attachment", "artifact"]);
  for (const p of partsOf(shared.body, "attachment")) assert.ok(!("path" in p), "path shown");
  // The frozen copy keeps the paths (private to the owner), the answer drops them.
  const [frozen] = await withDb((sql) =>
    sql`select messages::text as copy from public.conversation_shares where id = ${shared.id}`
  );
  assert.ok(frozen.copy.includes(`"path": "${alice.userId}/${conversation}/`));

  // Each link downloads the exact bytes, without signing in.
  const expected = [PNG, PDF, artifact];
  for (const [i, part] of files.entries()) {
    assert.equal(part.url, `${shared.url}/files/${part.id}`);
    const got = await download(part.url!);
    assert.equal(got.status, 200, `${part.type} ${i}`);
    assert.equal(await sha256(got.bytes), await sha256(expected[i]));
    assert.equal(await sha256(got.bytes), part.sha256);
    assert.equal(got.headers.get("etag"), `"${part.sha256}"`);
    assert.match(got.headers.get("content-disposition") ?? "", /^attachment; /);
    assert.equal(got.headers.get("x-content-type-options"), "nosniff");
  }
  const [png] = files;
  assert.equal((await download(png.url!)).headers.get("content-type"), "image/png");

  // Nothing the frozen copy does not name: a file uploaded after the snapshot, one of another
  // conversation of Alice's, one of Bob's, a made-up id, a malformed one.
  const later = await upload(
    alice,
    conversation,
    new File([PNG], "later.png", { type: "image/png" }),
  );
  const other = await alice.createConversation();
  const elsewhere = await upload(alice, other, new File([PNG], "x.png", { type: "image/png" }));
  const bob = await chatUser("sharefiles");
  const bobs = await upload(
    bob,
    await bob.createConversation(),
    new File([PNG], "b.png", {
      type: "image/png",
    }),
  );
  for (const id of [later.body.id, elsewhere.body.id, bobs.body.id, crypto.randomUUID()]) {
    const res = await download(`${shared.url}/files/${id}`);
    assert.equal(res.status, 404, id);
  }
  assert.equal((await download(`${shared.url}/files/not-a-uuid`)).status, 400);
  // Another share's token does not open this share's files.
  const another = await share(alice, other, true);
  assert.equal((await download(`${another.url}/files/${png.id}`)).status, 404);

  // Revoking the share ends its files at once.
  const revoked = await alice.api(`/conversations/${conversation}/shares/${shared.id}`, {
    method: "DELETE",
  });
  assert.equal(revoked.status, 204);
  assert.equal(await fetch(shared.url).then((r) => r.body?.cancel().then(() => r.status)), 404);
  for (const part of files) assert.equal((await download(part.url!)).status, 404);
});

Deno.test("a share without attachments has no files, no links and no owner id", async () => {
  const alice = await chatUser("sharefiles");
  const { conversation } = await conversationWithFiles(alice);
  const withFiles = await share(alice, conversation, true);
  const plain = await share(alice, conversation, false);
  assert.ok(!plain.text.includes(alice.userId));
  assert.deepEqual(partsOf(plain.body, "attachment", "artifact", "file", "citation"), []);
  assert.ok(!plain.text.includes("/files/"));
  // The ids of the files (known from the other share) open nothing under this one.
  for (const part of partsOf(withFiles.body, "attachment", "artifact")) {
    assert.equal((await download(`${plain.url}/files/${part.id}`)).status, 404);
  }
  // A deleted conversation's share gives nothing either.
  assert.equal(
    (await alice.api(`/conversations/${conversation}`, { method: "DELETE" })).status,
    204,
  );
  const [first] = partsOf(withFiles.body, "attachment");
  assert.equal((await download(first.url!)).status, 404);
});
