// Any number of ticks may run at once: each stage is claimed by one of them (compare-and-set),
// so nothing is sent twice. And a send left behind, by a lost post or a dispatcher killed
// mid-send, is recovered without a second send.
import assert from "node:assert/strict";
import { ROOT } from "../../local/config.ts";
import { connect, env, until } from "../_support/stack.ts";
import { runJob } from "../scheduled/helpers.ts";
import {
  callsTo,
  chain,
  fake,
  log,
  messagesTo,
  minutes,
  noonIn,
  person,
  PUSH,
  pushesTo,
  type Row,
  settled,
  task,
  tick,
  TWILIO,
} from "./helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "concurrency: 50 rounds of two ticks at once never send a stage twice",
  opts,
  async () => {
    const a = connect();
    const b = connect();
    try {
      const start = noonIn(12);
      const people = await Promise.all(Array.from({ length: 8 }, () => person(a)));
      const tasks: string[] = [];
      for (const p of people) {
        for (let i = 0; i < 2; i++) {
          tasks.push(await task(a, p.id, start, `Task ${i}`));
        }
      }
      for (let round = 0; round < 50; round++) {
        // Both clocks at the same instant: rounds 0, 5, 10 and 15 reach a new stage.
        const at = minutes(start, -10 + round);
        await Promise.all([tick(a, at, people), tick(b, at, people)]);
      }
      for (const id of tasks) {
        const rows = await settled(a, id);
        assert.deepEqual(
          rows.map((r) => r.stage).sort(),
          ["call", "missed", "push", "whatsapp"],
          id,
        );
      }
      for (const p of people) {
        assert.equal((await pushesTo(p.endpoint!)).length, 2, "one push per task");
        assert.equal((await messagesTo(p.phone!)).length, 2, "one WhatsApp per task");
        assert.equal((await callsTo(p.phone!)).length, 2, "one call per task");
      }
    } finally {
      await a.end();
      await b.end();
    }
  },
);

/**
 * Claims the task's next stage with the tick, as a tick whose post to the reminders function
 * was lost: the pg_net request carrying its id is dropped in the tick's own transaction.
 */
async function claimWithoutPost(
  sql: ReturnType<typeof connect>,
  at: Date,
  userId: string,
  taskId: string,
) {
  await sql.begin(async (tx) => {
    await tx`select private.claim_reminder_batch(100, ${at.toISOString()}::timestamptz, ${[
      userId,
    ]}::uuid[])`;
    await tx`delete from net.http_request_queue q using public.notification_log l
             where l.task_id = ${taskId} and l.status = 'pending'
               and convert_from(q.body, 'UTF8') like '%' || l.id || '%'`;
  });
  const rows = await log(sql, taskId);
  assert.equal(rows.at(-1)!.status, "pending");
  return rows.at(-1)! as Row;
}

/** The reminders dispatcher in a process of its own (so that it can be killed mid-send). */
function dispatcher(ids: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}tests/reminders/dispatch_child.ts`, ...ids],
    env: { ...env, AIDE_DB_POOL_SIZE: "2" },
    stdout: "null",
    stderr: "null",
  }).spawn();
}

Deno.test(
  "recovery: a send nobody picked up is posted again by the recovery step and sent once",
  opts,
  async () => {
    const sql = connect();
    try {
      const p = await person(sql, { phone: false });
      const start = noonIn(13);
      const id = await task(sql, p.id, start);
      const row = await claimWithoutPost(sql, minutes(start, -10), p.id, id);
      await runJob(sql, "recovery", { steps: ["reminder_dispatches"] });
      assert.equal(
        (await log(sql, id))[0].status,
        "pending",
        "not yet: it may still be on its way",
      );

      await sql`update public.notification_log set posted_at = now() - interval '3 minutes' where id = ${row.id}`;
      await runJob(sql, "recovery", { steps: ["reminder_dispatches"] });
      const [sent] = await settled(sql, id);
      assert.deepEqual([sent.status, sent.posts], ["sent", 2]);
      await runJob(sql, "recovery", { steps: ["reminder_dispatches"] });
      assert.equal((await pushesTo(p.endpoint!)).length, 1);
    } finally {
      await sql.end();
    }
  },
);

Deno.test(
  "recovery: a dispatcher killed mid-send is not sent again; the chain goes on",
  opts,
  async () => {
    const sql = connect();
    try {
      const p = await person(sql);
      const start = noonIn(14);
      const id = await task(sql, p.id, start);

      // Push: the push service has it, the dispatcher dies before hearing back.
      await fake(PUSH, "POST", "/__fake/push/script", { endpoint: p.endpoint, hold_ms: 30_000 });
      const push = await claimWithoutPost(sql, minutes(start, -10), p.id, id);
      const child = dispatcher([push.id]);
      await until(
        "the push service to receive it",
        async () => (await pushesTo(p.endpoint!)).length === 1,
        15_000,
      );
      child.kill("SIGKILL");
      await child.status;
      assert.equal((await log(sql, id))[0].status, "sending");

      // Past the platform's wall-clock limit, recovery calls it unknown: never sent again.
      await sql`update public.notification_log set sending_at = now() - interval '401 seconds' where id = ${push.id}`;
      await runJob(sql, "recovery", { steps: ["reminder_dispatches"] });
      const [unknown] = await log(sql, id);
      assert.equal(unknown.status, "unknown");
      assert.match(unknown.error, /not sent again/);

      // WhatsApp: Twilio accepted it and the dispatcher died; Twilio's status callback tells us.
      await fake(TWILIO, "POST", "/__fake/twilio/script", {
        to: p.phone,
        kind: "message",
        hold_ms: 30_000,
      });
      const wa = await claimWithoutPost(sql, minutes(start, -5), p.id, id);
      const child2 = dispatcher([wa.id]);
      await until(
        "Twilio to accept it",
        async () => (await messagesTo(p.phone!)).length === 1,
        15_000,
      );
      child2.kill("SIGKILL");
      await child2.status;
      const [message] = await messagesTo(p.phone!);
      const bound = await until("the status callback", async () => {
        const r = (await log(sql, id)).find((r) => r.stage === "whatsapp");
        return r?.provider_id ? r : null;
      });
      assert.deepEqual([bound.status, bound.provider_id], ["sent", message.sid]);
      await runJob(sql, "recovery", { steps: ["reminder_dispatches"] });

      // The chain goes on: the call comes at its time, and nothing was sent twice.
      assert.equal((await chain(sql, id)).next_stage, "call");
      await tick(sql, start, [p]);
      await settled(sql, id);
      assert.equal((await pushesTo(p.endpoint!)).length, 1);
      assert.equal((await messagesTo(p.phone!)).length, 1);
      assert.equal((await callsTo(p.phone!)).length, 1);
    } finally {
      await sql.end();
    }
  },
);
