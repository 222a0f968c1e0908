// Slack through the fake workspace (local/fakes/slack.ts): install, the Events API with its
// proofs, retries, edits and deletions, people, revocation, and the rate-limited backfill.
import assert from "node:assert/strict";
import { call, connect, env, newUser, until } from "../_support/stack.ts";
import { hmacHex } from "../../local/fakes/platform_kit.ts";
import {
  completeAuthorize,
  CONNECTORS,
  deliverSlack,
  eventuallyEvent,
  fake,
  installSlack,
  slackTeam,
  tick,
  uid,
  withOAuthLock,
} from "./helpers.ts";

const ts = (offsetSeconds = 0) => `${Math.floor(Date.now() / 1000) + offsetSeconds}.000100`;

async function workspace(
  extra: Parameters<typeof slackTeam>[0] extends infer T ? Partial<T> : never = {},
) {
  const team = uid("T");
  await slackTeam({
    id: team,
    users: [
      { id: "UOWNER", name: "olivia", real_name: "Olivia Owner", email: "olivia@acme.test" },
      { id: "UDANA", name: "dana", real_name: "Dana Scully", email: "dana@acme.test" },
    ],
    ...extra,
  });
  return team;
}

Deno.test("slack: install through the fake (curl -L style), state single use, token stored encrypted", async () => {
  const sql = connect();
  try {
    const user = await newUser("slack");
    const team = await workspace();
    const init = await call(`${CONNECTORS}/slack/oauth/initiate`, { token: user.token });
    assert.equal(init.status, 200);
    const authUrl = new URL(init.body.auth_url);
    assert.equal(authUrl.searchParams.get("state"), init.body.state);
    assert.equal(authUrl.searchParams.get("client_id"), env.SLACK_CLIENT_ID);
    assert.match(authUrl.searchParams.get("scope")!, /channels:history/);

    const { callback, result } = await completeAuthorize(init.body.auth_url, { team });
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(Object.keys(result.body).sort(), [
      "linked_account_id",
      "provider",
      "provider_account_id",
      "status",
    ]);
    assert.equal(result.body.provider, "slack");
    assert.equal(result.body.provider_account_id, team);
    assert.equal(result.body.status, "active");

    // The same callback again: the state was used.
    const again = await call(callback);
    assert.equal(again.status, 400);
    assert.equal(again.body.error.code, "invalid_state");

    const list = await call(CONNECTORS, { token: user.token });
    assert.equal(list.status, 200);
    assert.equal(list.body.accounts.length, 1);
    assert.equal(list.body.accounts[0].metadata.slack_user_id, "UOWNER");
    assert.ok(!JSON.stringify(list.body).includes("xoxb-"), "no token in the listing");

    const [tokenRow] =
      await sql`select access_token_enc, key_id, token_type from public.oauth_tokens
                                 where linked_account_id = ${result.body.linked_account_id}`;
    assert.match(tokenRow.access_token_enc, /^v1\.k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    assert.equal(tokenRow.token_type, "bot");
    const [backfill] =
      await sql`select status from private.slack_backfills where linked_account_id = ${result.body.linked_account_id}`;
    assert.equal(backfill.status, "running");
  } finally {
    await sql.end();
  }
});

Deno.test("slack: a callback with an unknown, missing or someone else's state connects nothing", async () => {
  const sql = connect();
  try {
    const res = await call(
      `${CONNECTORS}/slack/oauth/callback?code=whatever&state=${"x".repeat(32)}`,
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "invalid_state");
    const missing = await call(`${CONNECTORS}/slack/oauth/callback?code=whatever`);
    assert.equal(missing.status, 400);
    const initiate = await call(`${CONNECTORS}/slack/oauth/initiate`);
    assert.equal(initiate.status, 401, "initiate needs the user's JWT");
  } finally {
    await sql.end();
  }
});

Deno.test("slack: url_verification echoes the challenge; bad signature and stale timestamp get 401 and store nothing", async () => {
  const sql = connect();
  try {
    const verification = await fake("slack", "POST", "/__fake/deliver", {
      url: `${CONNECTORS}/slack/events`,
      body: {
        token: "x",
        challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        type: "url_verification",
      },
      retries: 0,
    });
    assert.equal(verification.attempts[0].status, 200);
    assert.deepEqual(JSON.parse(verification.attempts[0].body), {
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    });

    const user = await newUser("slack");
    const team = await workspace();
    await installSlack(user.token, team);
    const event = {
      type: "message",
      channel: "C1",
      user: "UDANA",
      text: "forged",
      ts: ts(),
      channel_type: "channel",
    };
    const forged = await deliverSlack({ team_id: team, event, signature: "bad", retries: 0 });
    assert.equal(forged.attempts[0].status, 401);
    const stale = await deliverSlack({
      team_id: team,
      event,
      timestamp: Math.floor(Date.now() / 1000) - 301,
      retries: 0,
    });
    assert.equal(stale.attempts[0].status, 401);
    // A correct signature over other bytes (the body changed after signing) is refused too.
    const raw = JSON.stringify({
      type: "event_callback",
      team_id: team,
      event_id: uid("Ev"),
      event,
    });
    const stamp = String(Math.floor(Date.now() / 1000));
    const sig = await hmacHex(env.SLACK_SIGNING_SECRET, `v0:${stamp}:${raw}`);
    const tampered = await call(`${CONNECTORS}/slack/events`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": `v0=${sig}`,
      },
      body: raw.replace("forged", "FORGED"),
    });
    assert.equal(tampered.status, 401);
    await new Promise((r) => setTimeout(r, 500));
    const [n] =
      await sql`select count(*)::int as n from public.events where user_id = ${user.userId}`;
    assert.equal(n.n, 0);
  } finally {
    await sql.end();
  }
});

Deno.test("slack: an event delivered twice (Slack's retry) is stored once; edits update it, deletes remove it with its index rows", async () => {
  const sql = connect();
  try {
    const user = await newUser("slack");
    const team = await workspace();
    const { linked_account_id } = await installSlack(user.token, team);
    const messageTs = ts();
    const delivery = await deliverSlack({
      team_id: team,
      event_id: uid("Ev"),
      event: {
        type: "message",
        channel: "C1",
        user: "UDANA",
        text: "Can you send the Q3 deck by Friday?",
        ts: messageTs,
        channel_type: "channel",
      },
      force_retries: 1,
    });
    assert.deepEqual(delivery.attempts.map((a: { status: number }) => a.status), [200, 200]);
    for (const a of delivery.attempts) assert.ok(a.ms < 3000, `acknowledged in ${a.ms} ms`);
    const e = await eventuallyEvent(sql, user.userId, `C1:${messageTs}`);
    await new Promise((r) => setTimeout(r, 300));
    const rows =
      await sql`select id, body, event_type, source_account_id, thread_id, sender_entity_id, raw
                           from public.events where user_id = ${user.userId}`;
    assert.equal(rows.length, 1, "the retry added nothing");
    assert.equal(rows[0].event_type, "message");
    assert.equal(rows[0].source_account_id, linked_account_id);
    assert.equal(rows[0].raw.user, "UDANA");
    const [person] = await sql`select name, aliases from public.entities where id = ${
      rows[0].sender_entity_id
    }`;
    assert.equal(person.name, "Dana Scully");
    assert.ok(person.aliases.includes("email:dana@acme.test"));
    const [thread] = await sql`select external_id from public.threads where id = ${
      rows[0].thread_id
    }`;
    assert.equal(thread.external_id, `C1:${messageTs}`);

    await deliverSlack({
      team_id: team,
      event: {
        type: "message",
        subtype: "message_changed",
        channel: "C1",
        channel_type: "channel",
        message: {
          type: "message",
          user: "UDANA",
          text: "Can you send the Q4 deck by Friday?",
          ts: messageTs,
        },
        previous_message: {
          type: "message",
          user: "UDANA",
          text: "Can you send the Q3 deck by Friday?",
          ts: messageTs,
        },
        ts: ts(1),
      },
    });
    await until("the edit", async () => {
      const [r] = await sql`select body from public.events where id = ${e.id}`;
      return r.body.includes("Q4");
    });
    await until("indexed", async () => {
      const [r] =
        await sql`select count(*)::int as n from public.search_index where object_id = ${e.id} and content like '%Q4%'`;
      return r.n > 0;
    }, 20_000);

    await deliverSlack({
      team_id: team,
      event: {
        type: "message",
        subtype: "message_deleted",
        channel: "C1",
        channel_type: "channel",
        deleted_ts: messageTs,
        ts: ts(2),
      },
    });
    await until("the delete", async () => {
      const [r] = await sql`select count(*)::int as n from public.events where id = ${e.id}`;
      return r.n === 0;
    });
    const [left] =
      await sql`select count(*)::int as n from public.search_index where object_id = ${e.id}`;
    assert.equal(left.n, 0);
  } finally {
    await sql.end();
  }
});

Deno.test("slack: mentions and direct messages rank higher; every Aide user of the workspace gets the event", async () => {
  const sql = connect();
  try {
    const team = await workspace();
    const olivia = await newUser("slack");
    const other = await newUser("slack");
    await installSlack(olivia.token, team);
    await installSlack(other.token, team);
    const plainTs = ts();
    const mentionTs = ts(1);
    const dmTs = ts(2);
    for (
      const event of [
        {
          type: "message",
          channel: "C1",
          user: "UDANA",
          text: "lunch?",
          ts: plainTs,
          channel_type: "channel",
        },
        {
          type: "message",
          channel: "C1",
          user: "UDANA",
          text: "<@UOWNER> please review the contract",
          ts: mentionTs,
          channel_type: "channel",
        },
        {
          type: "message",
          channel: "D1",
          user: "UDANA",
          text: "are you free at 3?",
          ts: dmTs,
          channel_type: "im",
        },
      ]
    ) await deliverSlack({ team_id: team, event });
    // Deliveries are processed independently (pg_net), so wait for each of the three.
    for (const id of [`C1:${plainTs}`, `C1:${mentionTs}`, `D1:${dmTs}`]) {
      await eventuallyEvent(sql, olivia.userId, id);
    }
    const rows = await sql`select external_id, event_type, importance_score from public.events
                           where user_id = ${olivia.userId}`;
    const byTs = Object.fromEntries(rows.map((r) => [r.external_id.split(":")[1], r]));
    assert.equal(byTs[plainTs].event_type, "message");
    assert.equal(byTs[mentionTs].event_type, "mention");
    assert.ok(byTs[mentionTs].importance_score > byTs[plainTs].importance_score);
    assert.ok(byTs[dmTs].importance_score > byTs[plainTs].importance_score);
    const theirs = await eventuallyEvent(sql, other.userId, `C1:${mentionTs}`);
    assert.equal(theirs.user_id, other.userId);
  } finally {
    await sql.end();
  }
});

Deno.test("slack: app_uninstalled revokes the workspace's accounts; later events are not stored", async () => {
  const sql = connect();
  try {
    const user = await newUser("slack");
    const team = await workspace();
    const { linked_account_id } = await installSlack(user.token, team);
    await deliverSlack({ team_id: team, event: { type: "app_uninstalled" } });
    await until("revoked", async () => {
      const [a] =
        await sql`select status from public.linked_accounts where id = ${linked_account_id}`;
      return a.status === "revoked";
    });
    const [t] =
      await sql`select revoked_at from public.oauth_tokens where linked_account_id = ${linked_account_id}`;
    assert.ok(t.revoked_at);
    await deliverSlack({
      team_id: team,
      event: {
        type: "message",
        channel: "C1",
        user: "UDANA",
        text: "hello?",
        ts: ts(),
        channel_type: "channel",
      },
    });
    await new Promise((r) => setTimeout(r, 500));
    const [n] =
      await sql`select count(*)::int as n from public.events where user_id = ${user.userId}`;
    assert.equal(n.n, 0);
  } finally {
    await sql.end();
  }
});

Deno.test("slack: disconnect revokes the token at Slack; ?purge=true deletes the account's events and index rows", async () => {
  const sql = connect();
  try {
    const user = await newUser("slack");
    const team = await workspace();
    const { linked_account_id } = await installSlack(user.token, team);
    const messageTs = ts();
    await deliverSlack({
      team_id: team,
      event: {
        type: "message",
        channel: "C1",
        user: "UDANA",
        text: "keep or purge",
        ts: messageTs,
        channel_type: "channel",
      },
    });
    const e = await eventuallyEvent(sql, user.userId, `C1:${messageTs}`);
    const other = await newUser("slack");
    const forbidden = await call(`${CONNECTORS}/${linked_account_id}`, {
      method: "DELETE",
      token: other.token,
    });
    assert.equal(forbidden.status, 404, "another user's account is not found");
    const res = await call(`${CONNECTORS}/${linked_account_id}?purge=true`, {
      method: "DELETE",
      token: user.token,
    });
    assert.equal(res.status, 204);
    const tokens = await fake("slack", "GET", `/__fake/tokens?team=${team}`);
    assert.deepEqual(tokens, [{ revoked: true }]);
    const [events] = await sql`select count(*)::int as n from public.events where id = ${e.id}`;
    const [index] =
      await sql`select count(*)::int as n from public.search_index where object_id = ${e.id}`;
    const [accounts] =
      await sql`select count(*)::int as n from public.linked_accounts where id = ${linked_account_id}`;
    assert.deepEqual([events.n, index.n, accounts.n], [0, 0, 0]);
  } finally {
    await sql.end();
  }
});

Deno.test("slack: the backfill keeps to the rate rule, and resumes from its cursor after a 429", async () => {
  const sql = connect();
  const [saved] =
    await sql`select value from public.app_settings where key = 'connectors.slack_history'`;
  try {
    const base = Math.floor(Date.now() / 1000) - 3600;
    const messages = Array.from(
      { length: 7 },
      (_, i) => ({ ts: `${base + i}.000100`, user: "UDANA", text: `history ${i}` }),
    );
    // The fake allows 1 history call per 2 s and 3 messages a page.
    const rule = { requests_per_minute: 1, window_seconds: 2, max_limit: 3 };
    const paced = await workspace({ channels: [{ id: "CHIST", messages }], rate: rule });
    const hurried = await workspace({ channels: [{ id: "CHIST", messages }], rate: rule });

    // Aide paced at the rule (30 a minute = one per 2 s): no 429 at all.
    await sql`update public.app_settings set value = '{"requests_per_minute": 30, "page_size": 3, "max_messages": 100, "max_channels": 5, "days": 7}'
              where key = 'connectors.slack_history'`;
    const a = await newUser("slack");
    await installSlack(a.token, paced);
    await runBackfill(sql, a.userId, 7);
    const pacedCalls = await fake(
      "slack",
      "GET",
      `/__fake/requests?api=conversations.history&team=${paced}`,
    );
    assert.equal(pacedCalls.filter((c: { status: number }) => c.status === 429).length, 0);
    assert.equal(pacedCalls.length, 3, "7 messages, 3 a page");

    // Aide asked to go faster than the rule: Slack answers 429, Aide waits Retry-After and resumes.
    await sql`update public.app_settings set value = '{"requests_per_minute": 120, "page_size": 3, "max_messages": 100, "max_channels": 5, "days": 7}'
              where key = 'connectors.slack_history'`;
    const b = await newUser("slack");
    await installSlack(b.token, hurried);
    await runBackfill(sql, b.userId, 7);
    const calls = await fake(
      "slack",
      "GET",
      `/__fake/requests?api=conversations.history&team=${hurried}`,
    );
    const limited = calls.filter((c: { status: number }) => c.status === 429);
    const accepted = calls.filter((c: { status: number }) => c.status === 200);
    assert.ok(limited.length > 0, "the fake refused some calls");
    assert.equal(accepted.length, 3);
    for (let i = 1; i < accepted.length; i++) {
      const gap = Date.parse(accepted[i].at) - Date.parse(accepted[i - 1].at);
      assert.ok(gap >= 1900, `accepted calls ${gap} ms apart`);
    }
    // Each refused call is retried with the same cursor: nothing is skipped or read twice.
    for (const refused of limited) {
      const next = accepted.find((c: { at: string }) => c.at > refused.at);
      assert.equal(next?.params.cursor, refused.params.cursor);
    }
    const stored =
      await sql`select body from public.events where user_id = ${b.userId} order by occurred_at`;
    assert.deepEqual(stored.map((r) => r.body), messages.map((m) => m.text));
  } finally {
    await sql`update public.app_settings set value = ${saved.value} where key = 'connectors.slack_history'`;
    await sql.end();
  }
});

async function runBackfill(sql: ReturnType<typeof connect>, userId: string, expected: number) {
  await until("the backfill", async () => {
    const res = await tick({ jobs: ["slack_backfill"], budget_ms: 5000 });
    assert.equal(res.status, 200, res.text);
    const [b] =
      await sql`select b.status, (select count(*)::int from public.events where user_id = ${userId}) as n
                          from private.slack_backfills b join public.linked_accounts a on a.id = b.linked_account_id
                          where a.user_id = ${userId}`;
    return b.status === "done" && b.n === expected;
  }, 60_000);
}

Deno.test("slack: a reply in the user's thread joins the thread and ranks above a plain message", async () => {
  const sql = connect();
  try {
    const user = await newUser("slack");
    const team = await workspace();
    await installSlack(user.token, team);
    const rootTs = ts();
    const replyTs = ts(1);
    const otherTs = ts(2);
    await deliverSlack({
      team_id: team,
      event: {
        type: "message",
        channel: "C2",
        user: "UOWNER",
        text: "Who can take the release notes?",
        ts: rootTs,
        channel_type: "channel",
      },
    });
    await deliverSlack({
      team_id: team,
      event: {
        type: "message",
        channel: "C2",
        user: "UDANA",
        text: "I can, by Thursday",
        ts: replyTs,
        thread_ts: rootTs,
        parent_user_id: "UOWNER",
        channel_type: "channel",
      },
    });
    await deliverSlack({
      team_id: team,
      event: {
        type: "message",
        channel: "C2",
        user: "UDANA",
        text: "coffee anyone",
        ts: otherTs,
        channel_type: "channel",
      },
    });
    const root = await eventuallyEvent(sql, user.userId, `C2:${rootTs}`);
    const reply = await eventuallyEvent(sql, user.userId, `C2:${replyTs}`);
    const plain = await eventuallyEvent(sql, user.userId, `C2:${otherTs}`);
    assert.equal(reply.thread_id, root.thread_id, "the reply is in the root's thread");
    assert.notEqual(plain.thread_id, root.thread_id);
    assert.ok(reply.importance_score > plain.importance_score);
    assert.ok(
      root.importance_score < plain.importance_score,
      "the user's own message ranks lowest",
    );
    const [thread] =
      await sql`select participants, last_event_at from public.threads where id = ${root.thread_id}`;
    assert.equal(thread.last_event_at.getTime(), Number(replyTs.split(".")[0]) * 1000 + 0);
  } finally {
    await sql.end();
  }
});

Deno.test("slack: with connectors.return_url set, the callback redirects there with the result (or the error)", async () => {
  const sql = connect();
  try {
    const user = await newUser("slack");
    const team = await workspace();
    await withOAuthLock("exclusive", async () => {
      await sql`update public.app_settings set value = '"https://app.example.test/settings/connections?tab=inbox"'
                where key = 'connectors.return_url'`;
      try {
        const init = await call(`${CONNECTORS}/slack/oauth/initiate`, { token: user.token });
        const { callback, result } = await completeAuthorize(init.body.auth_url, { team }, "held");
        assert.equal(result.status, 302);
        const to = new URL(result.headers.get("location")!);
        assert.equal(to.origin + to.pathname, "https://app.example.test/settings/connections");
        assert.equal(to.searchParams.get("tab"), "inbox");
        assert.equal(to.searchParams.get("provider"), "slack");
        assert.equal(to.searchParams.get("provider_account_id"), team);
        assert.equal(to.searchParams.get("status"), "active");
        const [a] = await sql`select id from public.linked_accounts where user_id = ${user.userId}`;
        assert.equal(to.searchParams.get("linked_account_id"), a.id);
        const reused = await call(callback, { redirect: "manual" });
        assert.equal(reused.status, 302);
        assert.equal(
          new URL(reused.headers.get("location")!).searchParams.get("error"),
          "invalid_state",
        );
      } finally {
        await sql`update public.app_settings set value = 'null' where key = 'connectors.return_url'`;
      }
    });
  } finally {
    await sql.end();
  }
});
