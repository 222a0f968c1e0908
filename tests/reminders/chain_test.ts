// The escalation chain end to end, against the fake push service and the fake Twilio: push at
// start minus the lead time, WhatsApp, a call, auto-miss, one escalation window apart, each sent
// exactly once; an answer stops it; stages without a channel are skipped; a moved task starts
// over.
import assert from "node:assert/strict";
import { connect } from "../_support/stack.ts";
import {
  callsTo,
  chain,
  fake,
  log,
  messagesTo,
  minutes,
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

Deno.test(
  "chain: with no answer, push, WhatsApp, call and auto-miss each go out once, a window apart",
  opts,
  async () => {
    const p = await person(sql);
    const start = noonIn(2);
    const id = await task(sql, p.id, start, "Run 5k");
    assert.equal(
      (await chain(sql, id)).next_at.getTime(),
      minutes(start, -10).getTime(),
      "lead time 10 min",
    );

    await tick(sql, minutes(start, -11), [p]);
    assert.equal((await log(sql, id)).length, 0, "nothing before start minus the lead time");

    await tick(sql, minutes(start, -10), [p]);
    let rows = await settled(sql, id);
    assert.deepEqual(rows.map((r) => [r.stage, r.status]), [["push", "sent"]]);
    const [push] = await pushesTo(p.endpoint!);
    const payload = JSON.parse(push.payload);
    assert.equal(payload.title, "Run 5k");
    assert.equal(payload.body, "Starts at 12:00");
    assert.equal(payload.task_id, id);
    assert.equal(rows[0].provider_id, push.endpoint.replace(/\/push\/.*/, `/messages/${push.id}`));

    await tick(sql, minutes(start, -6), [p]);
    assert.equal((await log(sql, id)).length, 1, "WhatsApp waits for the escalation window");
    await tick(sql, minutes(start, -5), [p]);
    rows = await settled(sql, id);
    const [wa] = await messagesTo(p.phone!);
    assert.equal(wa.body, null, "outside the 24-hour window: the template");
    assert.match(wa.content_sid, /^HX/);
    assert.deepEqual(wa.content_variables, { "1": "Run 5k", "2": "12:00" });
    const waRow = rows.find((r) => r.stage === "whatsapp")!;
    assert.equal(waRow.provider_id, wa.sid);
    assert.equal(waRow.delivery_status, "delivered", "from Twilio's signed status callback");

    await tick(sql, start, [p]);
    rows = await settled(sql, id);
    const [call] = await callsTo(p.phone!);
    assert.match(call.twiml, /<Gather input="dtmf" numDigits="1"/);
    assert.match(call.twiml, /Run 5k, at 12:00/);
    assert.deepEqual(call.gathers.map((g: { digits: string }) => g.digits), [""], "no key pressed");
    assert.match(call.gathers[0].response, /No key pressed/);
    const callRow = rows.find((r) => r.stage === "call")!;
    assert.equal(callRow.provider_id, call.sid);
    assert.equal(callRow.delivery_status, "completed");

    await tick(sql, minutes(start, 5), [p]);
    rows = await settled(sql, id);
    assert.deepEqual(rows.map((r) => [r.stage, r.status]), [
      ["push", "sent"],
      ["whatsapp", "sent"],
      ["call", "sent"],
      ["missed", "sent"],
    ]);
    const [t] = await sql`select status, missed_at from public.tasks where id = ${id}`;
    assert.equal(t.status, "missed");
    assert.ok(t.missed_at);
    const c = await chain(sql, id);
    assert.equal(c.next_stage, null);
    assert.equal(c.stop_reason, "missed");

    // Later ticks send nothing more.
    await tick(sql, minutes(start, 30), [p]);
    await tick(sql, minutes(start, 600), [p]);
    assert.equal((await log(sql, id)).length, 4);
    assert.equal((await pushesTo(p.endpoint!)).length, 1);
    assert.equal((await messagesTo(p.phone!)).length, 1);
    assert.equal((await callsTo(p.phone!)).length, 1);
  },
);

Deno.test(
  "chain: a WhatsApp reply at the WhatsApp stage stops the chain: no call, no auto-miss",
  opts,
  async () => {
    const p = await person(sql);
    const start = noonIn(3);
    const id = await task(sql, p.id, start, "Call mum");
    await tick(sql, minutes(start, -10), [p]);
    await tick(sql, minutes(start, -5), [p]);
    await settled(sql, id);
    assert.equal((await messagesTo(p.phone!)).length, 1);

    const reply = await fake(TWILIO, "POST", "/__fake/twilio/inbound", {
      from: p.phone,
      body: "1",
    });
    assert.equal(reply.status, 200);
    assert.match(reply.text, /<Message>Marked as done/);
    const [t] = await sql`select status, completed_at from public.tasks where id = ${id}`;
    assert.equal(t.status, "done");
    const c = await chain(sql, id);
    assert.deepEqual([c.stop_reason, c.ack_action, c.ack_channel], [
      "acknowledged",
      "done",
      "whatsapp",
    ]);

    await tick(sql, start, [p]);
    await tick(sql, minutes(start, 5), [p]);
    await settled(sql, id);
    assert.deepEqual((await log(sql, id)).map((r) => r.stage), ["push", "whatsapp"]);
    assert.equal((await callsTo(p.phone!)).length, 0, "no call after the answer");
  },
);

Deno.test(
  "chain: key 2 in the call snoozes 10 minutes and the chain starts again; key 1 then completes",
  opts,
  async () => {
    const p = await person(sql);
    const start = noonIn(4);
    const id = await task(sql, p.id, start, "Stretch");
    await fake(TWILIO, "POST", "/__fake/twilio/script", {
      to: p.phone,
      kind: "call",
      digits: ["2"],
    });
    for (const at of [-10, -5, 0]) await tick(sql, minutes(start, at), [p]);
    await settled(sql, id);
    const [call] = await callsTo(p.phone!);
    assert.match(call.gathers[0].response, /remind you again in 10 minutes/);
    const c = await chain(sql, id);
    assert.deepEqual([c.round, c.next_stage, c.ack_action], [1, "push", "snooze"]);
    const snoozedUntil = c.next_at.getTime();
    assert.ok(
      Math.abs(snoozedUntil - (Date.now() + 10 * 60_000)) < 60_000,
      "10 minutes from the key press",
    );

    // The new round: a push again once the snooze is over, then WhatsApp, then a call answered 1.
    await fake(TWILIO, "POST", "/__fake/twilio/script", {
      to: p.phone,
      kind: "call",
      digits: ["1"],
    });
    const later = new Date(Math.ceil(snoozedUntil / 1000) * 1000); // Dates drop the microseconds
    for (const at of [0, 5, 10]) await tick(sql, minutes(later, at), [p]);
    const rows = await settled(sql, id);
    assert.deepEqual(rows.map((r) => [r.round, r.stage]), [
      [0, "push"],
      [0, "whatsapp"],
      [0, "call"],
      [1, "push"],
      [1, "whatsapp"],
      [1, "call"],
    ]);
    assert.match((await callsTo(p.phone!))[1].gathers[0].response, /Marked as done/);
    assert.equal((await sql`select status from public.tasks where id = ${id}`)[0].status, "done");
    await tick(sql, minutes(later, 15), [p]);
    assert.equal((await log(sql, id)).length, 6, "no auto-miss after done");
  },
);

Deno.test(
  "chain: stages without a channel are skipped, keeping their time; no push subscription, no phone",
  opts,
  async () => {
    const p = await person(sql, { push: false, phone: false });
    const start = noonIn(5);
    const id = await task(sql, p.id, start);
    for (const at of [-10, -5, 0, 5]) await tick(sql, minutes(start, at), [p]);
    const rows = await settled(sql, id);
    assert.deepEqual(rows.map((r) => [r.stage, r.status, r.error]), [
      ["push", "skipped", "no push subscription"],
      ["whatsapp", "skipped", "no verified phone"],
      ["call", "skipped", "no verified phone"],
      ["missed", "sent", null],
    ]);

    // A verified phone without WhatsApp consent: no WhatsApp, but the call.
    const q = await person(sql, { whatsapp: false });
    const id2 = await task(sql, q.id, start);
    for (const at of [-10, -5, 0]) await tick(sql, minutes(start, at), [q]);
    const rows2 = await settled(sql, id2);
    assert.deepEqual(rows2.map((r) => [r.stage, r.status]), [["push", "sent"], [
      "whatsapp",
      "skipped",
    ], ["call", "sent"]]);
    assert.equal((await messagesTo(q.phone!)).length, 0);
    assert.equal((await callsTo(q.phone!)).length, 1);
  },
);

Deno.test(
  "chain: completing, cancelling or moving the task stops or restarts the chain",
  opts,
  async () => {
    const p = await person(sql, { phone: false });
    const start = noonIn(6);
    const done = await task(sql, p.id, start);
    await tick(sql, minutes(start, -10), [p]);
    await sql`update public.tasks set status = 'done', completed_at = now() where id = ${done}`;
    assert.equal((await chain(sql, done)).stop_reason, "done");

    const moved = await task(sql, p.id, start);
    await tick(sql, minutes(start, -10), [p]);
    await settled(sql, moved);
    const newStart = minutes(start, 120);
    await sql`update public.tasks set scheduled_at = ${newStart} where id = ${moved}`;
    const c = await chain(sql, moved);
    assert.equal(c.next_at.getTime(), minutes(newStart, -10).getTime());
    await tick(sql, minutes(start, -5), [p]);
    assert.deepEqual(
      (await log(sql, moved)).map((r) => r.stage),
      ["push"],
      "the old start's chain is gone",
    );
    await tick(sql, minutes(newStart, -10), [p]);
    const rows = await settled(sql, moved);
    assert.deepEqual(rows.map((r) => [r.starts_at.getTime(), r.stage]), [
      [start.getTime(), "push"],
      [newStart.getTime(), "push"],
    ]);
  },
);
