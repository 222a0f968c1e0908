// GDPR: the export holds the user's rows from every user-owned table, and deleting the account
// leaves no row of theirs in any table. Tables are enumerated from the catalog here, so a table
// added later is covered without changing the test.
import assert from "node:assert/strict";
import { chatUser, readSse, withDb } from "../_support/chat.ts";
import { env } from "../_support/stack.ts";
import { userRowCounts } from "./helpers.ts";

/** A file of the user's in Storage (documents bucket, their own folder), uploaded as them. */
async function uploadFile(u: { userId: string; token: string }, name: string) {
  const res = await fetch(`${env.SUPABASE_URL}/storage/v1/object/documents/${u.userId}/${name}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${u.token}`,
      apikey: env.SUPABASE_ANON_KEY,
      "content-type": "text/plain",
    },
    body: `notes of ${name}`,
  });
  if (!res.ok) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

const filesOf = (userId: string) =>
  withDb((sql) => sql`select name from storage.objects where owner_id = ${userId} order by name`)
    .then((r) => r.map((f) => f.name));

/** A user with something in every table the chat, usage and limits modules have. */
async function busyUser(prefix: string) {
  const u = await chatUser(prefix);
  const id = await u.createConversation({ title: `${prefix}'s plans` });
  await readSse(await u.send(id, { content: `${prefix} asks about Lisbon` }));
  await u.api("/account/me", {
    method: "PATCH",
    json: { display_name: prefix, preferences: { theme: "dark" } },
  });
  await uploadFile(u, `${prefix}-notes.txt`);
  return { ...u, conversationId: id };
}

Deno.test("GET /account/export returns the user's rows from every user-owned table, and only theirs", async () => {
  const alice = await busyUser("alice");
  const bob = await busyUser("bob");
  const res = await alice.api("/account/export");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-disposition") ?? "", /attachment; filename="aide-export-/);
  assert.equal(res.body.user.id, alice.userId);
  const data: Record<string, Record<string, unknown>[]> = res.body.data;

  // Every table holding Alice's rows (found in the catalog) is in the export, with all of them.
  const counts = await userRowCounts(alice.userId);
  const owned = Object.entries(counts).filter(([key]) =>
    /\.(user_id|owner_id)$/.test(key) || key === "profiles.id"
  );
  for (const [key, n] of owned) {
    const table = key.split(".")[0];
    assert.ok(Array.isArray(data[table]), `the export has no ${table}`);
    const column = key.split(".")[1];
    assert.equal(
      data[table].filter((r) => r[column] === alice.userId).length,
      n,
      `${key}: ${n} rows, exported ${data[table].length}`,
    );
  }
  for (
    const table of [
      "profiles",
      "conversations",
      "messages",
      "usage_ledger",
      "usage_daily",
      "rate_limit_counters",
    ]
  ) {
    assert.ok(data[table]?.length > 0, `expected rows of ${table} in the export`);
  }
  // Nothing of Bob's, and no derived search data.
  assert.ok(!JSON.stringify(data).includes(bob.userId), "the export contains another user's data");
  assert.ok(
    !JSON.stringify(data).includes("bob asks"),
    "the export contains another user's messages",
  );
  assert.equal(data.profiles[0].display_name, "alice");
  assert.deepEqual(data.profiles[0].preferences, { theme: "dark" });
  assert.ok(data.messages.some((m) => m.content === "alice asks about Lisbon"));
  assert.ok(data.messages.every((m) => !("search" in m)));
  // Storage files are listed (their metadata; the bytes stay downloadable through Storage).
  assert.deepEqual(
    res.body.files.map((
      f: { bucket_id: string; name: string; size: number },
    ) => [f.bucket_id, f.name, f.size]),
    [
      ["documents", `${alice.userId}/alice-notes.txt`, "notes of alice-notes.txt".length],
    ],
  );
});

Deno.test("DELETE /account needs a confirmation, then deletes the auth user and every row they own", async () => {
  const alice = await busyUser("alice");
  const bob = await busyUser("bob");
  const before = await userRowCounts(alice.userId);
  assert.ok(
    Object.values(before).reduce((a, b) => a + b, 0) >= 6,
    `too little to delete: ${JSON.stringify(before)}`,
  );
  const bobBefore = await userRowCounts(bob.userId);

  for (const json of [undefined, {}, { confirm: "yes" }, { confirm: "DELETE", extra: 1 }]) {
    const res = await alice.api("/account", { method: "DELETE", json });
    assert.equal(res.status, 400, `${JSON.stringify(json)}: ${res.status}`);
    assert.equal(res.body.error.code, "confirmation_required", JSON.stringify(json));
    assert.equal(typeof res.body.error.code, "string");
  }
  // Requests are counted against the rate limits whatever their answer, and a window that opens
  // in between adds a counter row: that is the limiter's own bookkeeping, not the user's data.
  const withoutCounters = (counts: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(counts).filter(([k]) => !k.startsWith("rate_limit_counters.")),
    );
  assert.deepEqual(
    withoutCounters(await userRowCounts(alice.userId)),
    withoutCounters(before),
    "a refused delete changed something",
  );
  assert.equal((await filesOf(alice.userId)).length, 1);

  const res = await alice.api("/account", { method: "DELETE", json: { confirm: "DELETE" } });
  assert.equal(res.status, 204);
  const after = await userRowCounts(alice.userId);
  for (const [key, n] of Object.entries(after)) {
    assert.equal(n, 0, `${key} still has ${n} of alice's rows`);
  }
  await withDb(async (sql) => {
    assert.equal((await sql`select 1 from auth.users where id = ${alice.userId}`).length, 0);
  });
  assert.deepEqual(await filesOf(alice.userId), [], "alice's files are still in Storage");
  assert.deepEqual(await filesOf(bob.userId), [`${bob.userId}/bob-notes.txt`]);
  // Bob is untouched; Alice's still valid token now finds nothing.
  assert.deepEqual(await userRowCounts(bob.userId), bobBefore);
  // (401 once the functions' 5-second cache of who may use Aide has expired: no such account.)
  const me = await alice.api("/account/me");
  assert.ok([401, 404].includes(me.status), `GET /account/me: ${me.status}`);
  const list = await alice.api("/conversations");
  if (list.status !== 401) assert.deepEqual(list.body.conversations, []);
  const write = await alice.api("/conversations", { method: "POST", json: { title: "after" } });
  assert.equal(write.status, 401);
  assert.equal(write.body.error.code, "unauthorized");
});
