/**
 * Sending a draft through the source's connector against the fake Slack workspace: in the
 * message's thread, only on the explicit call, at most once however often it is called, and
 * never through an account that was revoked.
 */
import assert from "node:assert/strict";
import { queueScript } from "../_support/chat.ts";
import { connect } from "../_support/stack.ts";
import {
  deliverSlack,
  eventuallyEvent,
  fake,
  installSlack,
  slackTeam,
  uid,
} from "../connectors/helpers.ts";
import { inboxUser, postPrompt } from "./helpers.ts";

/** A Slack ts a minute ago (a message from the future is outside every window). */
const ts = () =>
  `${Math.floor(Date.now() / 1000) - 60}.${
    String(Math.floor(Math.random() * 1e6)).padStart(6, "0")
  }`;

/** Slack's chat.postMessage calls carrying `text`. */
async function posted(text: string) {
  const log = await fake("slack", "GET", "/__fake/requests?api=chat.postMessage");
  return log.filter((r: { params: { text?: string } }) => r.params.text === text);
}

Deno.test("drafts: a Slack reply goes out in the thread once, only on request; a revoked account is refused", async () => {
  const sql = connect();
  try {
    const user = await inboxUser("America/New_York", "send");
    const team = uid("T");
    await slackTeam({
      id: team,
      users: [
        { id: "UOWNER", name: "olivia", real_name: "Olivia Owner", email: "olivia@acme.test" },
        { id: "UDANA", name: "dana", real_name: "Dana Scully", email: "dana@acme.test" },
      ],
    });
    const { linked_account_id } = await installSlack(user.token, team);
    const [first, second] = [ts(), ts()];
    for (
      const [messageTs, text] of [[first, "Can you send the Q3 deck by Friday?"], [
        second,
        "And the budget?",
      ]]
    ) {
      await deliverSlack({
        team_id: team,
        event_id: uid("Ev"),
        event: {
          type: "message",
          channel: "C1",
          user: "UDANA",
          text,
          ts: messageTs,
          channel_type: "channel",
        },
      });
    }
    const deck = await eventuallyEvent(sql, user.userId, `C1:${first}`);
    const budget = await eventuallyEvent(sql, user.userId, `C1:${second}`);

    const reply = `Sending the deck today ${uid("r")}`;
    const later = `Budget by Monday ${uid("r")}`;
    const action = (event_id: string, text: string) => ({
      event_id,
      title: "Reply",
      details: "asked in #C1",
      priority: "high",
      reason: "a direct question",
      due: null,
      action: "reply",
      reply: text,
    });
    await queueScript(
      "openai",
      {
        text: JSON.stringify({ actions: [action(deck.id, reply), action(budget.id, later)] }),
      },
      { contains: deck.id },
      1,
    );
    const found = await postPrompt(user, {
      prompt: "what needs action?",
      context: { intent: "task_detection" },
    });
    assert.equal(found.status, 200, found.text);
    const drafts =
      await sql`select id, source_event_id, kind from public.drafts where user_id = ${user.userId}`;
    assert.deepEqual(drafts.map((d) => d.kind), ["slack_reply", "slack_reply"]);
    const draftFor = (eventId: string) => drafts.find((d) => d.source_event_id === eventId)!.id;
    assert.deepEqual(await posted(reply), [], "a draft is not sent until asked");

    const sent = await user.api(`/drafts/${draftFor(deck.id)}/send`, { method: "POST" });
    assert.equal(sent.status, 200, sent.text);
    assert.equal(sent.body.sent_now, true);
    assert.equal(sent.body.draft.status, "sent");
    const out = await posted(reply);
    assert.equal(out.length, 1);
    assert.equal(out[0].params.channel, "C1");
    assert.equal(out[0].params.thread_ts, first);

    const again = await Promise.all(
      [1, 2, 3].map(() => user.api(`/drafts/${draftFor(deck.id)}/send`, { method: "POST" })),
    );
    assert.deepEqual(again.map((r) => [r.status, r.body.sent_now]), [[200, false], [200, false], [
      200,
      false,
    ]]);
    assert.equal((await posted(reply)).length, 1, "sent once");

    await sql`update public.linked_accounts set status = 'revoked' where id = ${linked_account_id}`;
    const refused = await user.api(`/drafts/${draftFor(budget.id)}/send`, { method: "POST" });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error.code, "account_revoked");
    assert.deepEqual(await posted(later), []);
    const [kept] = await sql`select status, send_error from public.drafts where id = ${
      draftFor(budget.id)
    }`;
    assert.equal(kept.status, "draft", "refused, not failed: it can be sent once reconnected");
  } finally {
    await sql.end();
  }
});
