// Twilio's webhooks: only requests signed for the public URL get through; a bad or missing
// signature is 403 and changes nothing; a signed message from a number nobody verified is
// acknowledged and ignored. And the push notification's own acknowledgement, by token.
import assert from "node:assert/strict";
import { call, connect, env, FUNCTIONS_URL } from "../_support/stack.ts";
import { twilioSignature } from "../../supabase/functions/_shared/reminders/signature.ts";
import {
  chain,
  fake,
  messagesTo,
  minutes,
  newPhone,
  noonIn,
  person,
  pushesTo,
  settled,
  task,
  tick,
  TWILIO,
} from "./helpers.ts";

const sql = connect();
const opts = { sanitizeResources: false, sanitizeOps: false };

/** Posts a form to one of our Twilio webhooks, signed for `signedUrl` (by default the public URL). */
async function twilioPost(
  path: string,
  params: Record<string, string>,
  signature?: string | null,
  signedUrl?: string,
) {
  const publicUrl = `${env.AIDE_PUBLIC_URL}/functions/v1${path}`;
  const form = new URLSearchParams(params);
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  const sig = signature === undefined
    ? await twilioSignature(env.TWILIO_AUTH_TOKEN, signedUrl ?? publicUrl, form)
    : signature;
  if (sig !== null) headers["x-twilio-signature"] = sig;
  return await call(`${FUNCTIONS_URL}${path}`, { method: "POST", headers, body: form });
}

/** A user whose WhatsApp reminder is waiting for an answer. */
async function awaitingAnswer(days: number) {
  const p = await person(sql);
  const start = noonIn(days);
  const id = await task(sql, p.id, start);
  await tick(sql, minutes(start, -10), [p]);
  await tick(sql, minutes(start, -5), [p]);
  await settled(sql, id);
  return { p, id };
}

const state = async (taskId: string, userId: string) => {
  const [t] = await sql`select status from public.tasks where id = ${taskId}`;
  const [p] =
    await sql`select whatsapp_last_inbound_at, whatsapp_opted_in_at from public.profiles where id = ${userId}`;
  const c = await chain(sql, taskId);
  return JSON.stringify({ t, p, c });
};

Deno.test(
  "twilio webhooks: a bad, missing or misplaced signature gets 403 and changes nothing",
  opts,
  async () => {
    const { p, id } = await awaitingAnswer(7);
    const reply = {
      From: `whatsapp:${p.phone}`,
      Body: "1",
      MessageSid: "SM" + "0".repeat(32),
      AccountSid: env.TWILIO_ACCOUNT_SID,
    };
    const before = await state(id, p.id);
    const origin = new URL(env.SUPABASE_URL).origin;
    const bad = [
      ["missing", null, undefined],
      ["wrong", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", undefined],
      // What the function itself sees behind the gateway: not the URL Twilio signs.
      ["signed for the function's own URL", undefined, `${origin}/reminders/twilio/whatsapp`],
    ] as const;
    for (const [label, signature, signedUrl] of bad) {
      const res = await twilioPost("/reminders/twilio/whatsapp", reply, signature, signedUrl);
      assert.equal(res.status, 403, label);
      assert.equal(res.body.error.code, "invalid_signature", label);
    }
    // A signature of other parameters (Body "2" signed, "1" sent).
    const form = new URLSearchParams(reply);
    const other = await twilioSignature(
      env.TWILIO_AUTH_TOKEN,
      `${env.AIDE_PUBLIC_URL}/functions/v1/reminders/twilio/whatsapp`,
      new URLSearchParams({ ...reply, Body: "2" }),
    );
    const tampered = await call(`${FUNCTIONS_URL}/reminders/twilio/whatsapp`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": other },
      body: form,
    });
    assert.equal(tampered.status, 403);
    for (const path of ["/reminders/twilio/voice", "/reminders/twilio/status"]) {
      const res = await twilioPost(path, {
        CallSid: "CA" + "1".repeat(32),
        Digits: "1",
        CallStatus: "completed",
      }, "bogus");
      assert.equal(res.status, 403, path);
    }
    assert.equal(await state(id, p.id), before, "nothing changed");

    // Signed properly, the same reply goes through.
    const ok = await twilioPost("/reminders/twilio/whatsapp", reply);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-type")!, /text\/xml/);
    assert.match(ok.text, /Marked as done/);
    assert.equal((await sql`select status from public.tasks where id = ${id}`)[0].status, "done");
  },
);

Deno.test(
  "twilio webhooks: a signed message from an unknown number is acknowledged with empty TwiML and ignored",
  opts,
  async () => {
    const stranger = newPhone();
    const res = await fake(TWILIO, "POST", "/__fake/twilio/inbound", { from: stranger, body: "1" });
    assert.equal(res.status, 200);
    assert.equal(res.text, '<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    const [{ n }] =
      await sql`select count(*)::int as n from public.profiles where phone = ${stranger}`;
    assert.equal(n, 0);
  },
);

Deno.test(
  "twilio webhooks: replies are read as actions; help for anything else; STOP ends WhatsApp consent",
  opts,
  async () => {
    const { p, id } = await awaitingAnswer(8);
    const help = await fake(TWILIO, "POST", "/__fake/twilio/inbound", {
      from: p.phone,
      body: "what?",
    });
    assert.match(
      help.text,
      /Reply 1 if it is done, 2 to be reminded in 10 minutes, or 3 to reschedule/,
    );
    assert.equal(
      (await chain(sql, id)).stopped_at,
      null,
      "a reply that means nothing changes nothing",
    );
    const [{ whatsapp_last_inbound_at }] =
      await sql`select whatsapp_last_inbound_at from public.profiles where id = ${p.id}`;
    assert.ok(whatsapp_last_inbound_at, "the 24-hour window opened");

    const later = await fake(TWILIO, "POST", "/__fake/twilio/inbound", {
      from: p.phone,
      body: "Reschedule",
    });
    assert.match(later.text, /pick a new time/);
    const c = await chain(sql, id);
    assert.deepEqual([c.stop_reason, c.ack_action], ["acknowledged", "reschedule"]);
    assert.equal((await sql`select status from public.tasks where id = ${id}`)[0].status, "open");

    // Inside the window the next reminder is free-form text, not the template.
    const start = noonIn(11);
    const next = await task(sql, p.id, start, "Water the plants");
    await tick(sql, minutes(start, -10), [p]);
    await tick(sql, minutes(start, -5), [p]);
    await settled(sql, next);
    const text = (await messagesTo(p.phone!)).at(-1);
    assert.deepEqual([text.content_sid, text.status], [null, "delivered"]);
    assert.match(text.body, /^Reminder: Water the plants at 12:00\. Reply 1 if it is done/);

    const stop = await fake(TWILIO, "POST", "/__fake/twilio/inbound", {
      from: p.phone,
      body: "STOP",
    });
    assert.match(stop.text, /no more WhatsApp reminders/);
    assert.equal(
      (await sql`select whatsapp_opted_in_at from public.profiles where id = ${p.id}`)[0]
        .whatsapp_opted_in_at,
      null,
    );
  },
);

Deno.test(
  "push: the notification's action, with the token from its payload, snoozes or completes; a bad token is 403",
  opts,
  async () => {
    const p = await person(sql, { phone: false });
    const start = noonIn(9);
    const id = await task(sql, p.id, start);
    await tick(sql, minutes(start, -10), [p]);
    await settled(sql, id);
    const [push] = await pushesTo(p.endpoint!);
    const payload = JSON.parse(push.payload);
    assert.equal(payload.ack_url, `${env.AIDE_PUBLIC_URL}/functions/v1/reminders/ack`);
    const ack = (body: unknown) =>
      call(payload.ack_url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });

    const forged = await ack({
      dispatch_id: payload.dispatch_id,
      token: "0".repeat(64),
      action: "done",
    });
    assert.equal(forged.status, 403);
    assert.equal((await sql`select status from public.tasks where id = ${id}`)[0].status, "open");

    const snoozed = await ack({
      dispatch_id: payload.dispatch_id,
      token: payload.ack_token,
      action: "snooze",
    });
    assert.equal(snoozed.status, 200);
    assert.deepEqual(snoozed.body, { task_id: id, action: "snooze", result: "ok" });
    assert.equal((await chain(sql, id)).round, 1);
    const done = await ack({
      dispatch_id: payload.dispatch_id,
      token: payload.ack_token,
      action: "done",
    });
    assert.equal(done.body.result, "ok");
    assert.equal((await sql`select status from public.tasks where id = ${id}`)[0].status, "done");
    const again = await ack({
      dispatch_id: payload.dispatch_id,
      token: payload.ack_token,
      action: "done",
    });
    assert.equal(again.body.result, "closed");
  },
);
