// The events of a reply in memory (ReplyEvents): every reader gets every event from the first,
// a reader that fell behind gets a part's piled-up deltas as one, and the instance's registry
// lists the reply for its owner only, until it is closed.
import assert from "node:assert/strict";
import {
  liveReply,
  ReplyEvents,
  stopLiveReply,
} from "../../supabase/functions/_shared/chat/broadcast.ts";
import type { ChatStreamEvent } from "../../supabase/functions/_shared/stream/events.ts";

const owner = { messageId: crypto.randomUUID(), userId: "u1", conversationId: "c1" };

async function all(it: AsyncIterable<ChatStreamEvent>) {
  const out: ChatStreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

Deno.test("reply events: a late reader gets every event; piled-up deltas of one part come as one", async () => {
  const events = new ReplyEvents({ ...owner, messageId: crypto.randomUUID() });
  const early = events.read();
  const first = early.next(); // waiting: it gets each event as it comes
  events.push({ type: "start", messageId: "m", conversationId: "c1" });
  assert.deepEqual((await first).value, { type: "start", messageId: "m", conversationId: "c1" });
  for (const delta of ["a", "b", "c"]) events.push({ type: "text-delta", id: "text-1", delta });
  events.push({ type: "reasoning-delta", id: "reasoning-2", delta: "r" });
  events.push({ type: "text-delta", id: "text-1", delta: "d" });
  events.push({ type: "text-delta", id: "text-3", delta: "e" });
  events.push({ type: "text-end", id: "text-3" });
  events.push({ type: "finish", messageId: "m", finishReason: "stop" });
  events.close();
  const piled: ChatStreamEvent[] = [
    { type: "text-delta", id: "text-1", delta: "abc" },
    { type: "reasoning-delta", id: "reasoning-2", delta: "r" },
    { type: "text-delta", id: "text-1", delta: "d" },
    { type: "text-delta", id: "text-3", delta: "e" },
    { type: "text-end", id: "text-3" },
    { type: "finish", messageId: "m", finishReason: "stop" },
  ];
  assert.deepEqual(await all(early), piled);
  // A reader that starts after the end still reads it all, from the start.
  assert.deepEqual(await all(events.read()), [
    { type: "start", messageId: "m", conversationId: "c1" },
    ...piled,
  ]);
});

Deno.test("reply events: listed for their owner in their conversation until closed", () => {
  const events = new ReplyEvents(owner);
  assert.equal(liveReply("u1", "c1", owner.messageId), events);
  assert.equal(liveReply("u2", "c1", owner.messageId), undefined);
  assert.equal(liveReply("u1", "c2", owner.messageId), undefined);
  events.close();
  assert.equal(liveReply("u1", "c1", owner.messageId), undefined);
});

Deno.test("reply events: a stop request made on the generating instance reaches the reply at once", () => {
  const messageId = crypto.randomUUID();
  const events = new ReplyEvents({ ...owner, messageId });
  let stopped = 0;
  events.onStop(() => stopped++);
  assert.equal(stopLiveReply("u2", "c1", messageId), false); // not bob's
  assert.equal(stopLiveReply("u1", "c2", messageId), false); // not in that conversation
  assert.equal(stopped, 0);
  assert.equal(stopLiveReply("u1", "c1", messageId), true);
  assert.equal(stopped, 1);
  events.close();
  assert.equal(stopLiveReply("u1", "c1", messageId), false); // over: the database has it
});
