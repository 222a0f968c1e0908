// Telegram through the fake Bot API (local/fakes/telegram.ts): the webhook's secret token, the
// /start link code, direct messages, Business updates, redeliveries, and sending as the bot.
import assert from "node:assert/strict";
import { call, connect, newUser, until } from "../_support/stack.ts";
import { CONNECTORS, eventuallyEvent, fake, withStackEnv } from "./helpers.ts";

let chatSeq = Math.floor(Math.random() * 1e6) * 100;
const nextId = () => ++chatSeq;
const now = () => Math.floor(Date.now() / 1000);

async function setupWebhook() {
  const sql = connect();
  const admin = await newUser("tg-admin");
  await sql`update public.profiles set role = 'admin' where id = ${admin.userId}`;
  await sql.end();
  const res = await call(`${CONNECTORS}/telegram/setup`, { method: "POST", token: admin.token });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

const send = (update: Record<string, unknown>, secret?: string | null) =>
  fake("telegram", "POST", "/__fake/update", {
    update,
    ...(secret === undefined ? {} : { secret }),
  });

/** Links a new Aide user to a new Telegram user through the bot; answers both. */
async function linkedUser() {
  const user = await newUser("tg");
  const link = await call(`${CONNECTORS}/telegram/link`, { method: "POST", token: user.token });
  assert.equal(link.status, 200, link.text);
  const tgId = nextId();
  const from = {
    id: tgId,
    is_bot: false,
    first_name: "Dana",
    last_name: "Scully",
    username: `dana${tgId}`,
  };
  const res = await send({
    message: {
      message_id: 1,
      date: now(),
      chat: { id: tgId, type: "private" },
      from,
      text: `/start ${link.body.code}`,
    },
  });
  assert.equal(res.status, 200);
  return { user, tgId, from, code: link.body.code as string };
}

Deno.test("telegram: setup sets the webhook with the secret and an explicit allowed_updates; only admins may", async () => {
  const info = await setupWebhook();
  assert.equal(info.url, `${CONNECTORS}/telegram/webhook`);
  assert.deepEqual(info.allowed_updates.sort(), [
    "business_connection",
    "business_message",
    "deleted_business_messages",
    "edited_business_message",
    "edited_message",
    "message",
  ]);
  const webhook = await fake("telegram", "GET", "/__fake/webhook");
  assert.equal(webhook.has_secret, true);
  const user = await newUser("tg");
  const refused = await call(`${CONNECTORS}/telegram/setup`, { method: "POST", token: user.token });
  assert.equal(refused.status, 403);
});

Deno.test("telegram: a wrong or missing secret token gets 401 and changes nothing", async () => {
  await setupWebhook();
  const sql = connect();
  try {
    const { user, tgId, from } = await linkedUser();
    const update = {
      message: {
        message_id: 50,
        date: now(),
        chat: { id: tgId, type: "private" },
        from,
        text: "forged",
      },
    };
    assert.equal((await send(update, "wrong-secret")).status, 401);
    assert.equal((await send(update, null)).status, 401);
    const [n] =
      await sql`select count(*)::int as n from public.events where user_id = ${user.userId}`;
    assert.equal(n.n, 0);
  } finally {
    await sql.end();
  }
});

Deno.test("telegram: the link code links the Telegram user once; direct messages then become events, once per update_id", async () => {
  await setupWebhook();
  const sql = connect();
  try {
    const { user, tgId, from, code } = await linkedUser();
    const [account] = await sql`select id, provider_account_id, metadata from public.linked_accounts
                                where user_id = ${user.userId} and provider = 'telegram'`;
    assert.equal(account.provider_account_id, String(tgId));
    assert.equal(account.metadata.username, from.username);
    const replies = await fake("telegram", "GET", "/__fake/requests?api=sendMessage");
    assert.ok(
      replies.some((r: { params: { chat_id: number; text: string } }) =>
        r.params.chat_id === tgId && /Linked/.test(r.params.text)
      ),
    );

    // The code is single use: someone else sending it links nothing.
    const intruder = nextId();
    await send({
      message: {
        message_id: 2,
        date: now(),
        chat: { id: intruder, type: "private" },
        from: { id: intruder, is_bot: false, first_name: "Eve" },
        text: `/start ${code}`,
      },
    });
    const [n] =
      await sql`select count(*)::int as n from public.linked_accounts where provider_account_id = ${
        String(intruder)
      }`;
    assert.equal(n.n, 0);

    const update = {
      update_id: nextId() * 10,
      message: {
        message_id: 3,
        date: now(),
        chat: { id: tgId, type: "private" },
        from,
        text: "Call me about the invoice",
      },
    };
    assert.equal((await send(update)).status, 200);
    assert.equal((await send(update)).status, 200, "a redelivery is acknowledged");
    const e = await eventuallyEvent(sql, user.userId, `${tgId}:3`);
    assert.equal(e.source, "telegram");
    assert.equal(e.source_account_id, account.id);
    const [count] =
      await sql`select count(*)::int as n from public.events where user_id = ${user.userId}`;
    assert.equal(count.n, 1);
    const [person] =
      await sql`select name, aliases from public.entities where id = ${e.sender_entity_id}`;
    assert.equal(person.name, "Dana Scully");
    assert.ok(person.aliases.includes(`handle:${from.username}`));
  } finally {
    await sql.end();
  }
});

Deno.test("telegram: business messages become events, edits update them, deleted business messages are removed; replies go through the connection", async () => {
  await setupWebhook();
  const sql = connect();
  try {
    const { user, tgId, from } = await linkedUser();
    const connection = `bc-${nextId()}`;
    await send({
      business_connection: {
        id: connection,
        user: from,
        user_chat_id: tgId,
        date: now(),
        is_enabled: true,
        rights: { can_reply: true },
      },
    });
    const client = nextId();
    const chat = { id: client, type: "private", first_name: "Carl", username: `carl${client}` };
    const carl = { id: client, is_bot: false, first_name: "Carl", username: `carl${client}` };
    await send({
      business_message: {
        business_connection_id: connection,
        message_id: 10,
        date: now(),
        chat,
        from: carl,
        text: "Is the flat still available?",
      },
    });
    await send({
      business_message: {
        business_connection_id: connection,
        message_id: 11,
        date: now(),
        chat,
        from: carl,
        text: "I can visit Saturday",
      },
    });
    const first = await eventuallyEvent(sql, user.userId, `${client}:10`);
    await eventuallyEvent(sql, user.userId, `${client}:11`);
    assert.equal(first.body, "Is the flat still available?");
    const [thread] =
      await sql`select external_id, subject from public.threads where id = ${first.thread_id}`;
    assert.deepEqual({ ...thread }, { external_id: String(client), subject: "Carl" });

    await send({
      edited_business_message: {
        business_connection_id: connection,
        message_id: 10,
        date: now(),
        edit_date: now(),
        chat,
        from: carl,
        text: "Is the flat still available in May?",
      },
    });
    await until("the edit", async () => {
      const [r] = await sql`select body from public.events where id = ${first.id}`;
      return r.body.endsWith("in May?");
    });

    await send({
      deleted_business_messages: { business_connection_id: connection, chat, message_ids: [10] },
    });
    await until("the deletion", async () => {
      const rows = await sql`select external_id from public.events where user_id = ${user.userId}`;
      return rows.length === 1 && rows[0].external_id === `${client}:11`;
    });

    // A reply to the remaining message goes out through the business connection.
    const [kept] = await sql`select id from public.events where user_id = ${user.userId}`;
    const { sendReply } = await withStackEnv(() =>
      import("../../supabase/functions/_shared/connectors/send.ts")
    );
    const text = `Saturday at 11 works (${connection})`;
    const sent = await sendReply(user.userId, kept.id, text);
    assert.equal(sent.provider, "telegram");
    const log = await fake("telegram", "GET", "/__fake/requests?api=sendMessage");
    const out = log.find((r: { params: { text: string } }) => r.params.text === text);
    assert.equal(out.params.business_connection_id, connection);
    assert.equal(String(out.params.chat_id), String(client));
  } finally {
    await sql.end();
  }
});

Deno.test("telegram: business updates for a user who never linked Aide are ignored", async () => {
  await setupWebhook();
  const sql = connect();
  try {
    const stranger = { id: nextId(), is_bot: false, first_name: "Stranger" };
    const connection = `bc-${nextId()}`;
    await send({
      business_connection: {
        id: connection,
        user: stranger,
        user_chat_id: stranger.id,
        date: now(),
        is_enabled: true,
      },
    });
    const res = await send({
      business_message: {
        business_connection_id: connection,
        message_id: 1,
        date: now(),
        chat: { id: 1, type: "private" },
        from: stranger,
        text: "hi",
      },
    });
    assert.equal(res.status, 200);
    const [n] =
      await sql`select count(*)::int as n from private.telegram_business_connections where id = ${connection}`;
    assert.equal(n.n, 0);
  } finally {
    await sql.end();
  }
});
