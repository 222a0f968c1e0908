// Uploads never sent: the recovery job's step `unsent_uploads` finds attachments no message names
// once `chat.attachments.unsent_after` has passed, and the chat-jobs function it posts to (pg_net)
// removes each file from Storage, then its row. Sent files and fresh uploads stay.
import assert from "node:assert/strict";
import { type ChatUser, chatUser, readSse, until, withDb } from "../_support/chat.ts";
import { connect, FUNCTIONS_URL } from "../_support/stack.ts";
import { records, runJob } from "./helpers.ts";

const upload = async (user: ChatUser, conversation: string, name: string) => {
  const form = new FormData();
  form.append("file", new File([`text of ${name}`], name, { type: "text/plain" }));
  const res = await user.api(`/conversations/${conversation}/attachments`, {
    method: "POST",
    body: form,
  });
  assert.equal(res.status, 201, res.text);
  return res.body.id as string;
};

/** Each attachment: whether its row and its Storage object are still there. */
const present = (ids: string[]) =>
  withDb(async (sql) => {
    const out: Record<string, { row: boolean; object: boolean }> = {};
    for (const id of ids) {
      const [row] = await sql`select storage_path from public.chat_attachments where id = ${id}`;
      const [object] = await sql`select 1 from storage.objects
        where bucket_id = 'chat-attachments' and (storage.foldername(name))[3] = ${id}`;
      out[id] = { row: Boolean(row), object: Boolean(object) };
    }
    return out;
  });

Deno.test("the recovery job removes stale uploads no message names, file then row; sent and fresh ones stay", async () => {
  const alice = await chatUser("unsent");
  const conversation = await alice.createConversation({ model: "gpt-5.2" });
  const sent = await upload(alice, conversation, "sent.txt");
  const stale = await upload(alice, conversation, "stale.txt");
  const fresh = await upload(alice, conversation, "fresh.txt");
  await readSse(await alice.send(conversation, { content: "Read this", attachments: [sent] }));
  // The sent one and the stale one are older than the setting (24 hours); fresh is new.
  await withDb((sql) =>
    sql`update public.chat_attachments set created_at = now() - interval '25 hours'
        where id in (${sent}, ${stale})`
  );
  const all = [sent, stale, fresh];
  assert.deepEqual(Object.values(await present(all)).every((p) => p.row && p.object), true);

  const sql = connect();
  try {
    const run = await runJob(sql, "recovery", { steps: ["unsent_uploads"] });
    const step = (await records(sql, run)).unsent_uploads;
    // pg_cron's own run may have taken the step first (skipped here): it posts the same ids.
    assert.ok(["done", "skipped"].includes(step.status), JSON.stringify(step));
  } finally {
    await sql.end();
  }
  await until("the stale upload removed", async () => {
    const p = (await present([stale]))[stale];
    return !p.row && !p.object;
  }, 20_000);
  const after = await present(all);
  assert.deepEqual(after[sent], { row: true, object: true }, "a sent file stays");
  assert.deepEqual(after[fresh], { row: true, object: true }, "a fresh upload stays");
  // The owner's own download of the removed file is gone too (Storage, not just the row).
  const [gone] = await withDb((sql) =>
    sql`select count(*)::int as n from storage.objects
        where bucket_id = 'chat-attachments' and name like ${`%/${stale}/%`}`
  );
  assert.equal(gone.n, 0);
});

Deno.test("the sweep's endpoint wants the webhook secret and keeps what is not stale", async () => {
  const alice = await chatUser("unsent");
  const conversation = await alice.createConversation();
  const id = await upload(alice, conversation, "keep.txt");
  await withDb((sql) =>
    sql`update public.chat_attachments set created_at = now() - interval '25 hours'
        where id = ${id}`
  );
  const post = (authorization?: string, ids = [id]) =>
    fetch(`${FUNCTIONS_URL}/chat-jobs/unsent-uploads`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(authorization ? { authorization } : {}),
      },
      body: JSON.stringify({ ids }),
    });
  for (const authorization of [undefined, `Bearer ${alice.token}`, "Bearer wrong"]) {
    const res = await post(authorization);
    assert.equal(res.status, 401);
    await res.body?.cancel();
  }
  assert.deepEqual((await present([id]))[id], { row: true, object: true });

  // With the secret: a fresh upload is kept, a stale one is removed.
  const [{ secret }] = await withDb((sql) =>
    sql`select decrypted_secret as secret from vault.decrypted_secrets
        where name = 'aide_webhook_secret'`
  );
  const fresh = await upload(alice, conversation, "fresh.txt");
  const res = await post(`Bearer ${secret}`, [fresh, id]);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { removed: 1, kept: 1 });
  const after = await present([id, fresh]);
  assert.deepEqual(after, {
    [id]: { row: false, object: false },
    [fresh]: { row: true, object: true },
  });
});
