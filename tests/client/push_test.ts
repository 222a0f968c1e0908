// The SDK's Web Push calls against the live stack (the subscription comes from the fake push
// service, as a browser's PushSubscription.toJSON() would).
import assert from "node:assert/strict";
import { connect } from "../_support/stack.ts";
import { fake, PUSH } from "../reminders/helpers.ts";
import { userClient } from "./helpers.ts";

Deno.test("push: the VAPID key, then a subscription saved and removed through the SDK", async () => {
  const { aide, userId } = await userClient("push");
  const { vapid_public_key } = await aide.push.config();
  assert.match(vapid_public_key, /^[A-Za-z0-9_-]{87}$/);
  const browser = await fake(PUSH, "POST", "/__fake/push/subscriptions");
  const saved = await aide.push.subscribe({
    ...browser,
    endpoint: `https://fcm.googleapis.com/fcm/send/${crypto.randomUUID()}`,
  });
  const sql = connect();
  try {
    const count = async () =>
      (await sql`select count(*)::int as n from public.push_subscriptions where user_id = ${userId}`)[
        0
      ].n;
    assert.equal(await count(), 1);
    await aide.push.unsubscribe(saved.id);
    assert.equal(await count(), 0);
  } finally {
    await sql.end();
  }
});
