// x-request-id from the client is echoed and stored (logs, usage_ledger.request_id) only when it
// is at most 128 printable characters; anything else gets a fresh id instead.
import assert from "node:assert/strict";
import { chatUser, readSse, withDb } from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";

Deno.test("a client's x-request-id is kept only when it is at most 128 printable characters", async () => {
  const alice = await chatUser("reqid");
  const conversationId = await alice.createConversation();
  const send = (requestId: string) =>
    fetch(`${FUNCTIONS_URL}/conversations/${conversationId}/messages`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${alice.token}`,
        "content-type": "application/json",
        "x-request-id": requestId,
      },
      body: JSON.stringify({ content: "hello" }),
    });
  const good = `trace-${crypto.randomUUID()}`;
  const ok = await send(good);
  assert.equal(ok.headers.get("x-request-id"), good);
  await readSse(ok);

  const long = "x".repeat(5000);
  const res = await send(long);
  const given = res.headers.get("x-request-id") ?? "";
  await readSse(res);
  assert.notEqual(given, long);
  assert.match(given, /^[0-9a-f-]{36}$/);
  await withDb(async (sql) => {
    const rows = await sql`select distinct request_id from public.usage_ledger
                           where conversation_id = ${conversationId}`;
    const ids = rows.map((r) => r.request_id);
    assert.ok(ids.includes(good), JSON.stringify(ids));
    assert.ok(ids.every((id) => id.length <= 128), "an over-long request id was stored");
    assert.ok(ids.includes(given));
  });
});
