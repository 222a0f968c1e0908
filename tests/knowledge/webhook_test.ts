// The meeting recorder's transcript webhook: HMAC-SHA256 over the timestamp and the raw body,
// a five-minute window, and idempotency by the sender's transcript id.
import assert from "node:assert/strict";
import { chatUser, marker, until, withDb } from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";

async function sign(secret: string, timestamp: string, body: string) {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${timestamp}.${body}`)),
  );
  return `v1=${Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const secret = () =>
  withDb((sql) =>
    sql`select decrypted_secret from vault.decrypted_secrets where name = 'aide_transcript_webhook_secret'`
      .then(([r]) => r.decrypted_secret as string)
  );

async function deliver(body: string, headers: Record<string, string>) {
  const res = await fetch(`${FUNCTIONS_URL}/documents/webhook`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: res.status, body: await res.json() };
}

const transcriptCount = (ownerId: string) =>
  withDb((sql) =>
    sql`select count(*)::int as n from public.documents where owner_id = ${ownerId}`.then(([r]) =>
      r.n
    )
  );

Deno.test("a signed transcript is stored once, shared, and indexed; redeliveries are no-ops", async () => {
  const alice = await chatUser("alice");
  const id = marker("rec");
  const body = JSON.stringify({
    transcript_id: id,
    title: "Weekly sync",
    owner_email: alice.email,
    occurred_at: new Date().toISOString(),
    segments: [{ speaker: "Alice", text: `We ship the ${id} feature.` }, {
      speaker: "Bob",
      text: "Agreed.",
    }],
  });
  const now = String(Math.floor(Date.now() / 1000));
  const first = await deliver(body, {
    "x-aide-timestamp": now,
    "x-aide-signature": await sign(await secret(), now, body),
  });
  assert.equal(first.status, 201);
  assert.equal(first.body.status, "created");
  const again = await deliver(body, {
    "x-aide-timestamp": now,
    "x-aide-signature": await sign(await secret(), now, body),
  });
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, { status: "duplicate", document_id: first.body.document_id });

  await withDb(async (sql) => {
    const doc = await until(
      "the transcript to be indexed",
      () =>
        sql`select kind, visibility, source, source_id, content, status from public.documents where id = ${first.body.document_id}`
          .then(([d]) => d.status === "ready" ? d : null),
    );
    assert.equal(doc.kind, "transcript");
    assert.equal(doc.visibility, "shared");
    assert.equal(doc.source_id, id);
    assert.equal(doc.content, `Alice: We ship the ${id} feature.\nBob: Agreed.`);
  });
  assert.equal(await transcriptCount(alice.userId), 1);
});

Deno.test("bad signatures, old or missing timestamps are refused with 401 and write nothing", async () => {
  const alice = await chatUser("alice");
  const body = JSON.stringify({
    transcript_id: marker("bad"),
    title: "x",
    owner_email: alice.email,
    text: "hello",
  });
  const now = String(Math.floor(Date.now() / 1000));
  const old = String(Math.floor(Date.now() / 1000) - 301);
  const good = await sign(await secret(), now, body);
  const cases: Record<string, string>[] = [
    { "x-aide-timestamp": now, "x-aide-signature": await sign("wrong-secret", now, body) },
    {
      "x-aide-timestamp": now,
      "x-aide-signature": good.replace(/.$/, (c) => (c === "0" ? "1" : "0")),
    },
    { "x-aide-timestamp": old, "x-aide-signature": await sign(await secret(), old, body) },
    { "x-aide-signature": good },
    { "x-aide-timestamp": now },
    { "x-aide-timestamp": String(Number(now) + 1), "x-aide-signature": good }, // signed for another time
  ];
  for (const headers of cases) {
    const res = await deliver(body, headers);
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(res.body.error.code, "invalid_signature");
  }
  // A valid signature over a tampered body fails too.
  const tampered = await deliver(body.replace("hello", "HELLO"), {
    "x-aide-timestamp": now,
    "x-aide-signature": good,
  });
  assert.equal(tampered.status, 401);
  // Well signed but invalid: a clear 4xx, still nothing written.
  const invalid = JSON.stringify({
    transcript_id: "x",
    title: "x",
    owner_email: "nobody@nowhere.test",
    text: "hi",
  });
  assert.equal(
    (await deliver(invalid, {
      "x-aide-timestamp": now,
      "x-aide-signature": await sign(await secret(), now, invalid),
    })).status,
    422,
  );
  assert.equal(await transcriptCount(alice.userId), 0);
});

Deno.test("a transcript for an owner whose email is not confirmed is refused with 422 and stores nothing", async () => {
  const owner = await chatUser("unconfirmed-owner");
  await withDb((sql) =>
    sql`update auth.users set email_confirmed_at = null where id = ${owner.userId}`
  );
  const body = JSON.stringify({
    transcript_id: marker("unconfirmed"),
    title: "Sync",
    owner_email: owner.email,
    text: "Alice: hello",
  });
  const now = String(Math.floor(Date.now() / 1000));
  const res = await deliver(body, {
    "x-aide-timestamp": now,
    "x-aide-signature": await sign(await secret(), now, body),
  });
  assert.equal(res.status, 422);
  assert.equal(res.body.error.code, "unknown_owner");
  assert.equal(await transcriptCount(owner.userId), 0);
});
