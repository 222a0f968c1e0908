// Upload and delete keep Storage and the documents table in step: the file is stored before the
// document row is written (no transaction waits on Storage), a failed insert removes the file
// again, and a file Storage will not remove keeps its document (502, nothing deleted) instead of
// being left behind silently.
import assert from "node:assert/strict";
import { type ChatUser, chatUser, marker, withDb } from "../_support/chat.ts";

async function upload(user: ChatUser, name: string, text: string) {
  const form = new FormData();
  form.set("file", new File([text], name));
  return await user.api("/documents", { method: "POST", body: form });
}

const files = (userId: string) =>
  withDb((sql) =>
    sql`select name, created_at from storage.objects
        where bucket_id = 'documents' and name like ${`${userId}/%`}`
  );

Deno.test("upload stores the file first, then commits the row; a failed insert removes the file", async () => {
  const alice = await chatUser("upload-order");
  const res = await upload(alice, "notes.txt", `notes ${marker()}`);
  assert.equal(res.status, 201, res.text);
  const [file] = await files(alice.userId);
  const [doc] = await withDb((sql) =>
    sql`select created_at, storage_path from public.documents where id = ${res.body.id}`
  );
  assert.equal(doc.storage_path, file.name);
  // documents.created_at is the insert transaction's start: it began after the file was stored.
  assert.ok(
    file.created_at < doc.created_at,
    "the row's transaction was open while the file was stored",
  );

  // The insert fails (no documents left in the quota): nothing stays behind.
  await withDb((sql) =>
    sql`update public.profiles set quotas = '{"documents": 1}' where id = ${alice.userId}`
  );
  const refused = await upload(alice, "more.txt", "more notes");
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.body.error.code, "quota_exceeded");
  assert.deepEqual((await files(alice.userId)).map((f) => f.name), [file.name]);
});

Deno.test("a stored file Storage will not remove keeps its document: 502, nothing deleted; a retry deletes both", async () => {
  const bob = await chatUser("delete-file");
  const res = await upload(bob, "keep.txt", `keep ${marker()}`);
  assert.equal(res.status, 201, res.text);
  const fn = `refuse_delete_${marker()}`;
  await withDb(async (sql) => {
    await sql.unsafe(`
      create function public.${fn}() returns trigger language plpgsql set search_path = '' as $$
      begin
        if old.name like '${bob.userId}/%' then raise exception 'storage is down'; end if;
        return old;
      end $$`);
    await sql.unsafe(`create trigger ${fn} before delete on storage.objects
                      for each row execute function public.${fn}()`);
  });
  try {
    const refused = await bob.api(`/documents/${res.body.id}`, { method: "DELETE" });
    assert.equal(refused.status, 502, refused.text);
    assert.equal(refused.body.error.code, "storage_failed");
    await withDb(async (sql) => {
      const docs = await sql`select id from public.documents where id = ${res.body.id}`;
      assert.equal(docs.length, 1, "the document was deleted while its file stayed");
    });
    assert.equal((await files(bob.userId)).length, 1);
  } finally {
    await withDb(async (sql) => {
      await sql.unsafe(`drop trigger if exists ${fn} on storage.objects`);
      await sql.unsafe(`drop function if exists public.${fn}()`);
    });
  }
  const retried = await bob.api(`/documents/${res.body.id}`, { method: "DELETE" });
  assert.equal(retried.status, 204, retried.text);
  assert.equal((await files(bob.userId)).length, 0);
  await withDb(async (sql) => {
    assert.equal((await sql`select 1 from public.documents where id = ${res.body.id}`).length, 0);
  });
});
