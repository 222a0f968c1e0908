// "What did Dana ask me?": Dana on Slack and in mail is one entity, and a search for her name
// finds her messages from both sources.
import assert from "node:assert/strict";
import { call, connect, newUser, rest, until } from "../_support/stack.ts";
import {
  completeAuthorize,
  CONNECTORS,
  deliverSlack,
  eventuallyEvent,
  fake,
  installSlack,
  slackTeam,
  uid,
} from "./helpers.ts";

Deno.test("entities: Dana from Slack (users.info email) and from mail (sender address) is one person, found everywhere", async () => {
  const sql = connect();
  try {
    const user = await newUser("people");
    const surname = uid("Scully").toLowerCase();
    const email = `dana.${surname}@acme.test`;
    const team = uid("T");
    await slackTeam({
      id: team,
      users: [{ id: "UOWNER", name: "olivia" }, {
        id: "UDANA",
        name: "dana",
        real_name: `Dana ${surname}`,
        email,
      }],
    });
    await installSlack(user.token, team);
    const slackTs = `${Math.floor(Date.now() / 1000)}.000200`;
    await deliverSlack({
      team_id: team,
      event: {
        type: "message",
        channel: "C9",
        user: "UDANA",
        text: "can you review the budget?",
        ts: slackTs,
        channel_type: "channel",
      },
    });
    const fromSlack = await eventuallyEvent(sql, user.userId, `C9:${slackTs}`);

    const mailbox = uid("mbx").toLowerCase();
    await fake("microsoft", "POST", "/__fake/mailboxes", {
      id: mailbox,
      mail: `${mailbox}@contoso.test`,
    });
    const init = await call(`${CONNECTORS}/outlook/oauth/initiate`, { token: user.token });
    const { result } = await completeAuthorize(init.body.auth_url, { login_hint: mailbox });
    assert.equal(result.status, 200, result.text);
    const message = await fake("microsoft", "POST", "/__fake/messages", {
      mailbox,
      message: {
        subject: "Budget questions",
        body: { contentType: "text", content: "Two questions on the budget before Friday." },
        from: { emailAddress: { name: email, address: email.toUpperCase() } },
        toRecipients: [{ emailAddress: { address: `${mailbox}@contoso.test` } }],
        conversationId: uid("conv"),
      },
    });
    await fake("microsoft", "POST", "/__fake/notify", { mailbox, message_id: message.id });
    const fromMail = await eventuallyEvent(sql, user.userId, message.id);

    assert.equal(fromMail.sender_entity_id, fromSlack.sender_entity_id, "one person");
    const people =
      await sql`select name, aliases from public.entities where user_id = ${user.userId} and kind = 'person'
                             and aliases ? ${`email:${email}`}`;
    assert.equal(people.length, 1);
    assert.equal(people[0].name, `Dana ${surname}`, "the real name, not the address");
    assert.ok(people[0].aliases.includes(`slack:${team.toLowerCase()}:udana`));

    // Her name is in what is indexed for both events.
    const hits = await until("both indexed", async () => {
      const res = await rest(user.token, "/rpc/hybrid_search", {
        method: "POST",
        body: JSON.stringify({
          query_text: `Dana ${surname}`,
          query_embedding: `[${Array(1536).fill(0.01).join(",")}]`,
          object_types: ["event"],
        }),
      });
      return res.body?.length === 2 ? res.body : null;
    }, 20_000);
    assert.deepEqual(
      hits.map((h: { object_id: string }) => h.object_id).sort(),
      [fromMail.id, fromSlack.id].sort(),
    );
  } finally {
    await sql.end();
  }
});
