// File uploads: txt, md and pdf (with a text layer) go to Storage and are indexed; files over
// the limit, of other types, or without readable text are refused and nothing is stored.
import assert from "node:assert/strict";
import { type ChatUser, chatUser, marker, until, withDb } from "../_support/chat.ts";
import { createClient } from "@supabase/supabase-js";
import { env, FUNCTIONS_URL } from "../_support/stack.ts";
import { pdfWith } from "../_support/pdf.ts";

async function upload(
  user: ChatUser,
  name: string,
  bytes: Uint8Array | string,
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  form.set("file", new File([bytes as BlobPart], name));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = await fetch(`${FUNCTIONS_URL}/documents`, {
    method: "POST",
    body: form,
    headers: { authorization: `Bearer ${user.token}` },
  });
  return { status: res.status, body: await res.json() };
}

const stored = (userId: string) =>
  withDb((sql) =>
    sql`select (select count(*) from public.documents where owner_id = ${userId})::int as documents,
               (select count(*) from storage.objects where bucket_id = 'documents' and name like ${`${userId}/%`})::int as files`
      .then(([r]) => r)
  );

Deno.test("txt, md and pdf uploads are stored in Storage and indexed by their text", async () => {
  const alice = await chatUser("alice");
  const word = marker("finch");
  for (
    const [name, bytes, expected] of [
      ["notes.txt", `plain ${word} notes`, `plain ${word} notes`],
      ["plan.md", `# Plan\n\nmarkdown ${word} plan`, `# Plan\n\nmarkdown ${word} plan`],
      ["report.pdf", pdfWith(`Quarterly ${word} report`), `Quarterly ${word} report`],
    ] as const
  ) {
    const res = await upload(alice, name, bytes, { title: `Upload ${name}` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.title, `Upload ${name}`);
    assert.equal(res.body.source, "upload");
    await withDb(async (sql) => {
      const doc = await until(
        "indexed",
        () =>
          sql`select status, content, storage_path, mime_type, size_bytes from public.documents where id = ${res.body.id}`
            .then(([d]) => d.status === "ready" ? d : null),
      );
      assert.equal(doc.content.trim(), expected);
      assert.equal(
        doc.size_bytes,
        typeof bytes === "string" ? new TextEncoder().encode(bytes).length : bytes.length,
      );
      const [object] =
        await sql`select metadata from storage.objects where bucket_id = 'documents' and name = ${doc.storage_path}`;
      assert.ok(object, "the file is not in Storage");
      assert.equal(object.metadata.mimetype, doc.mime_type);
    });
  }
  const search = await alice.api(`/documents/search?q=${word}`);
  const found = search.body.results.filter((r: { content: string }) => r.content.includes(word));
  assert.equal(found.length, 3);

  // Deleting the document removes the stored file too.
  const [first] = (await alice.api("/documents?q=Upload")).body.documents;
  assert.equal((await alice.api(`/documents/${first.id}`, { method: "DELETE" })).status, 204);
  assert.deepEqual(await stored(alice.userId), { documents: 2, files: 2 });
});

Deno.test("upload limits and bad files: 413, 415, 422, and nothing stored", async () => {
  const alice = await chatUser("alice");
  const cases: [string, Uint8Array | string, number, string][] = [
    ["big.txt", "x".repeat(10 * 1024 * 1024 + 1), 413, "payload_too_large"],
    ["image.png", "\x89PNG....", 415, "unsupported_media_type"],
    ["archive.zip", "PK", 415, "unsupported_media_type"],
    ["scan.pdf", pdfWith(null), 422, "no_text_layer"],
    ["broken.pdf", "%PDF-1.4 not really", 422, "unreadable_file"],
    ["latin1.txt", new Uint8Array([0x63, 0x61, 0x66, 0xe9]), 422, "unreadable_file"],
  ];
  for (const [name, bytes, status, code] of cases) {
    const res = await upload(alice, name, bytes);
    assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, code, name);
  }
  const noFile = await fetch(`${FUNCTIONS_URL}/documents`, {
    method: "POST",
    body: (() => {
      const f = new FormData();
      f.set("title", "no file");
      return f;
    })(),
    headers: { authorization: `Bearer ${alice.token}` },
  });
  assert.equal(noFile.status, 400);
  await noFile.body?.cancel();
  const badField = await upload(alice, "ok.txt", "fine", { kind: "spreadsheet" });
  assert.equal(badField.status, 400);
  assert.deepEqual(await stored(alice.userId), { documents: 0, files: 0 });
});

Deno.test("the documents bucket keeps each user to their own folder", async () => {
  const alice = await chatUser("alice");
  const bob = await chatUser("bob");
  const bucket = (token: string) =>
    createClient(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, {
      auth: { persistSession: false, autoRefreshToken: false },
      global: { headers: { Authorization: `Bearer ${token}` } },
    }).storage.from("documents");
  const own = await bucket(alice.token).upload(
    `${alice.userId}/note.txt`,
    new TextEncoder().encode("mine"),
    {
      contentType: "text/plain",
    },
  );
  assert.equal(own.error, null);
  const intrusion = await bucket(alice.token).upload(
    `${bob.userId}/note.txt`,
    new TextEncoder().encode("x"),
    {
      contentType: "text/plain",
    },
  );
  assert.ok(intrusion.error, "alice wrote into bob's folder");
  const peek = await bucket(bob.token).download(`${alice.userId}/note.txt`);
  assert.ok(peek.error, "bob read alice's file");
  const mine = await bucket(alice.token).download(`${alice.userId}/note.txt`);
  assert.equal(await mine.data?.text(), "mine");
  const removed = await bucket(bob.token).remove([`${alice.userId}/note.txt`]);
  assert.deepEqual(removed.data, [], "bob removed alice's file");
  assert.deepEqual(await stored(bob.userId), { documents: 0, files: 0 });
});
