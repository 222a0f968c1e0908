// Outlook through the fake Microsoft identity platform and Graph (local/fakes/microsoft.ts):
// PKCE, the subscription handshake, notifications and their clientState, lifecycle events, delta
// resync (and its 410), renewal from pg_cron, and refresh-token rotation under concurrency.
import assert from "node:assert/strict";
import { call, connect, newUser, until } from "../_support/stack.ts";
import {
  completeAuthorize,
  CONNECTORS,
  eventuallyEvent,
  fake,
  uid,
  withStackEnv,
} from "./helpers.ts";

type Sql = ReturnType<typeof connect>;

function mail(subject: string, from: string, to: string[], extra: Record<string, unknown> = {}) {
  return {
    subject,
    bodyPreview: subject,
    body: { contentType: "html", content: `<p>${subject}</p><p>Thanks,<br>Sender</p>` },
    from: { emailAddress: { name: from.split("@")[0], address: from } },
    toRecipients: to.map((a) => ({ emailAddress: { address: a } })),
    ccRecipients: [],
    conversationId: uid("conv"),
    webLink: "https://outlook.office.com/mail/inbox/id/x",
    ...extra,
  };
}

/** A new user connected to a new mailbox through initiate -> authorize -> callback. */
async function connectMailbox() {
  const user = await newUser("outlook");
  const mailbox = uid("mbx").toLowerCase();
  await fake("microsoft", "POST", "/__fake/mailboxes", {
    id: mailbox,
    mail: `${mailbox}@contoso.test`,
    displayName: "Olivia",
  });
  const init = await call(`${CONNECTORS}/outlook/oauth/initiate`, { token: user.token });
  assert.equal(init.status, 200, init.text);
  const { result } = await completeAuthorize(init.body.auth_url, { login_hint: mailbox });
  assert.equal(result.status, 200, result.text);
  return {
    user,
    mailbox,
    address: `${mailbox}@contoso.test`,
    accountId: result.body.linked_account_id as string,
    init,
  };
}

const addMessage = (mailbox: string, message: Record<string, unknown>) =>
  fake("microsoft", "POST", "/__fake/messages", { mailbox, message });
const notify = (body: Record<string, unknown>) => fake("microsoft", "POST", "/__fake/notify", body);
const state = (mailbox: string) => fake("microsoft", "GET", `/__fake/state?mailbox=${mailbox}`);

async function initialSyncDone(sql: Sql, accountId: string) {
  await until("the initial delta sync", async () => {
    const [s] =
      await sql`select delta_link from private.graph_subscriptions where linked_account_id = ${accountId}`;
    return s?.delta_link;
  });
}

Deno.test("outlook: connect with PKCE S256; the subscription is created after Graph's validation handshake", async () => {
  const sql = connect();
  try {
    const { init, mailbox, accountId } = await connectMailbox();
    const auth = new URL(init.body.auth_url);
    assert.equal(auth.searchParams.get("code_challenge_method"), "S256");
    assert.match(auth.searchParams.get("code_challenge")!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(auth.searchParams.get("scope")!, /offline_access User\.Read Mail\.Read/);
    const s = await state(mailbox);
    assert.equal(s.subscriptions.length, 1);
    assert.equal(s.subscriptions[0].notificationUrl, `${CONNECTORS}/outlook/notifications`);
    assert.equal(s.subscriptions[0].lifecycleNotificationUrl, `${CONNECTORS}/outlook/lifecycle`);
    assert.equal(s.subscriptions[0].resource, "me/mailFolders('inbox')/messages");
    const [sub] =
      await sql`select subscription_id, client_state_hash, expires_at from private.graph_subscriptions
                            where linked_account_id = ${accountId}`;
    assert.equal(sub.subscription_id, s.subscriptions[0].id);
    assert.match(
      sub.client_state_hash,
      /^[A-Za-z0-9_-]{43}$/,
      "only a hash of clientState is kept",
    );
    const [a] =
      await sql`select provider_account_id, metadata from public.linked_accounts where id = ${accountId}`;
    assert.equal(a.provider_account_id, mailbox);
    await initialSyncDone(sql, accountId);
  } finally {
    await sql.end();
  }
});

Deno.test("outlook: a code whose PKCE verifier does not match is refused and connects nothing", async () => {
  const sql = connect();
  try {
    const user = await newUser("outlook");
    const mailbox = uid("mbx").toLowerCase();
    const init = await call(`${CONNECTORS}/outlook/oauth/initiate`, { token: user.token });
    const url = new URL(init.body.auth_url);
    url.searchParams.set("code_challenge", "A".repeat(43)); // an attacker's challenge
    const { result } = await completeAuthorize(url.toString(), { login_hint: mailbox });
    assert.equal(result.status, 400);
    assert.equal(result.body.error.code, "exchange_failed");
    const [n] =
      await sql`select count(*)::int as n from public.linked_accounts where user_id = ${user.userId}`;
    assert.equal(n.n, 0);
  } finally {
    await sql.end();
  }
});

Deno.test("outlook: the validationToken handshake is answered as text/plain on both URLs", async () => {
  for (const path of ["notifications", "lifecycle"]) {
    const res = await fetch(
      `${CONNECTORS}/outlook/${path}?validationToken=${encodeURIComponent("Validation: abc 123")}`,
      { method: "POST" },
    );
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/plain/);
    assert.equal(await res.text(), "Validation: abc 123");
  }
});

Deno.test("outlook: a notification becomes an event (mail to the user ranks above cc); a wrong clientState is ignored", async () => {
  const sql = connect();
  try {
    const { user, mailbox, address, accountId } = await connectMailbox();
    await initialSyncDone(sql, accountId);
    const direct = await addMessage(
      mailbox,
      mail("Contract renewal due Friday", "dana@acme.test", [address]),
    );
    const res = await notify({ mailbox, message_id: direct.id });
    assert.equal(res.status, 202);
    const e = await eventuallyEvent(sql, user.userId, direct.id);
    assert.equal(e.event_type, "email");
    assert.equal(e.title, "Contract renewal due Friday");
    assert.match(e.body, /Contract renewal due Friday\nThanks,\nSender/);
    assert.ok(!e.body.includes("<p>"), "HTML is reduced to text");

    const copied = await addMessage(
      mailbox,
      mail("FYI: offsite agenda", "ops@acme.test", ["team@acme.test"], {
        ccRecipients: [{ emailAddress: { address } }],
      }),
    );
    await notify({ mailbox, message_id: copied.id });
    const cc = await eventuallyEvent(sql, user.userId, copied.id);
    assert.ok(
      e.importance_score > cc.importance_score,
      `to ${e.importance_score} > cc ${cc.importance_score}`,
    );

    const forged = await addMessage(mailbox, mail("Wire the money", "ceo@evil.test", [address]));
    const wrong = await notify({
      mailbox,
      message_id: forged.id,
      client_state: "not-the-client-state",
    });
    assert.equal(wrong.status, 202, "acknowledged, as Graph expects");
    const missing = await notify({ mailbox, message_id: forged.id, client_state: null });
    assert.equal(missing.status, 202);
    await new Promise((r) => setTimeout(r, 700));
    const [n] =
      await sql`select count(*)::int as n from public.events where user_id = ${user.userId} and external_id = ${forged.id}`;
    assert.equal(n.n, 0);
  } finally {
    await sql.end();
  }
});

Deno.test("outlook: `missed` resyncs through the delta query; a 410 starts a bounded full resync", async () => {
  const sql = connect();
  try {
    const { user, mailbox, address, accountId } = await connectMailbox();
    await initialSyncDone(sql, accountId);
    const quiet = await addMessage(
      mailbox,
      mail("Missed while offline", "dana@acme.test", [address]),
    );
    assert.equal((await notify({ mailbox, lifecycle_event: "missed" })).status, 202);
    await eventuallyEvent(sql, user.userId, quiet.id);
    const deltaCalls = await fake(
      "microsoft",
      "GET",
      `/__fake/requests?api=GET%20delta&mailbox=${mailbox}`,
    );
    assert.ok(deltaCalls.length >= 2, "initial round, then the resync from the deltaLink");

    await fake("microsoft", "POST", "/__fake/delta_gone", { mailbox });
    const after = await addMessage(
      mailbox,
      mail("After the sync state expired", "dana@acme.test", [address]),
    );
    await notify({ mailbox, lifecycle_event: "missed" });
    await eventuallyEvent(sql, user.userId, after.id);
    const statuses =
      (await fake("microsoft", "GET", `/__fake/requests?api=GET%20delta&mailbox=${mailbox}`))
        .map((r: { status: number }) => r.status);
    assert.ok(statuses.includes(410));
    assert.equal(statuses.at(-1), 200);
    const [n] =
      await sql`select count(*)::int as n from public.events where user_id = ${user.userId}`;
    assert.equal(n.n, 2, "the full resync stored each message once");
  } finally {
    await sql.end();
  }
});

Deno.test("outlook: lifecycle reauthorizationRequired renews, subscriptionRemoved recreates", async () => {
  const sql = connect();
  try {
    const { mailbox, accountId } = await connectMailbox();
    await initialSyncDone(sql, accountId);
    const before = (await state(mailbox)).subscriptions[0];
    await notify({ mailbox, lifecycle_event: "reauthorizationRequired" });
    await until(
      "the renewal",
      async () =>
        (await fake(
          "microsoft",
          "GET",
          `/__fake/requests?api=PATCH%20/subscriptions/{id}&mailbox=${mailbox}`,
        )).length === 1,
    );
    await notify({ mailbox, lifecycle_event: "subscriptionRemoved" });
    await until("a new subscription", async () => {
      const [s] =
        await sql`select subscription_id from private.graph_subscriptions where linked_account_id = ${accountId}`;
      return s.subscription_id !== before.id;
    });
  } finally {
    await sql.end();
  }
});

Deno.test("outlook: the pg_cron tick renews subscriptions before they expire", async () => {
  const sql = connect();
  try {
    const { mailbox, accountId } = await connectMailbox();
    await initialSyncDone(sql, accountId);
    await sql`update private.graph_subscriptions set expires_at = now() + interval '1 hour' where linked_account_id = ${accountId}`;
    const [job] =
      await sql`select schedule, command from cron.job where jobname = 'aide-connectors'`;
    assert.equal(job.schedule, "* * * * *");
    await sql.unsafe(job.command); // what pg_cron runs each minute
    await until("renewed", async () => {
      const [s] =
        await sql`select expires_at from private.graph_subscriptions where linked_account_id = ${accountId}`;
      return s.expires_at.getTime() > Date.now() + 24 * 3600_000;
    }, 20_000);
    const patches = await fake(
      "microsoft",
      "GET",
      `/__fake/requests?api=PATCH%20/subscriptions/{id}&mailbox=${mailbox}`,
    );
    assert.equal(patches.length, 1);
    assert.equal(patches[0].status, 200);
  } finally {
    await sql.end();
  }
});

Deno.test("outlook: two concurrent refreshes keep the rotated refresh token", async () => {
  const sql = connect();
  try {
    const { user, mailbox, address, accountId } = await connectMailbox();
    await initialSyncDone(sql, accountId);
    const a = await addMessage(mailbox, mail("First", "dana@acme.test", [address]));
    const b = await addMessage(mailbox, mail("Second", "dana@acme.test", [address]));
    // The access token is about to expire: both deliveries need a refresh at once.
    await sql`update public.oauth_tokens set expires_at = now() - interval '1 minute' where linked_account_id = ${accountId}`;
    await Promise.all([
      notify({ mailbox, message_id: a.id }),
      notify({ mailbox, message_id: b.id }),
    ]);
    await eventuallyEvent(sql, user.userId, a.id);
    await eventuallyEvent(sql, user.userId, b.id);
    const s = await state(mailbox);
    assert.equal(s.refresh_count, 1, "one refresh: the second waited and used its result");
    assert.equal(s.valid_refresh_tokens, 1);
    const { readTokens } = await withStackEnv(() =>
      import("../../supabase/functions/_shared/connectors/tokens.ts")
    );
    const stored = await readTokens(accountId);
    const valid = await fake("microsoft", "POST", "/__fake/valid_refresh", {
      mailbox,
      refresh_token: stored!.refreshToken,
    });
    assert.equal(valid.valid, true, "the stored refresh token is the current one");
    const [row] =
      await sql`select last_refreshed_at, expires_at from public.oauth_tokens where linked_account_id = ${accountId}`;
    assert.ok(row.last_refreshed_at && row.expires_at > new Date());
  } finally {
    await sql.end();
  }
});

Deno.test("outlook: disconnect deletes the Graph subscription", async () => {
  const sql = connect();
  try {
    const { user, mailbox, accountId } = await connectMailbox();
    await initialSyncDone(sql, accountId);
    const res = await call(`${CONNECTORS}/${accountId}`, { method: "DELETE", token: user.token });
    assert.equal(res.status, 204);
    assert.equal((await state(mailbox)).subscriptions.length, 0);
    const [n] =
      await sql`select count(*)::int as n from private.graph_subscriptions where linked_account_id = ${accountId}`;
    assert.equal(n.n, 0);
  } finally {
    await sql.end();
  }
});
