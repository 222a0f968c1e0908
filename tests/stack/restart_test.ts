// Killing a function mid-reply, or the gateway itself, leaves the stack up: the function's worker
// restarts, the gateway restarts under the stack's supervisor, Postgres and PostgREST never stop,
// and the interrupted reply is recovered by the recovery job as on a hosted project (an error
// 'interrupted' with its partial text). tests/run.ts runs this file alone, after the others,
// because it stops processes every test shares.
import assert from "node:assert/strict";
import { join } from "node:path";
import { chatUser, readSse, until, withDb } from "../_support/chat.ts";
import { call, cfg, env, FUNCTIONS_URL, REST_URL } from "../_support/stack.ts";
import { runJob } from "../scheduled/helpers.ts";

const pidOf = (name: string) => Number(Deno.readTextFileSync(join(cfg.dir, "run", `${name}.pid`)));
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");

async function stackAnswers(token: string) {
  const health = await call(`${FUNCTIONS_URL}/health`, { token });
  assert.equal(health.status, 200);
  const rest = await call(`${REST_URL}/profiles?select=id`, { token });
  assert.equal(rest.status, 200);
}

Deno.test("a function killed mid-reply restarts alone, and its reply is recovered", async () => {
  const alice = await chatUser("killed");
  const conversationId = await alice.createConversation();
  const healthPid = pidOf("health");
  const gatewayPid = pidOf("gateway");
  const before = pidOf("conversations");
  const res = await alice.send(conversationId, {
    content: `long [[fake {"tokens_per_sec": 10, "text": "${words(300)}"}]]`,
  });
  const streamed = readSse(res).catch((e) => e);
  const messageId = await withDb((sql) =>
    until(
      "some streamed text",
      () =>
        sql`select id from public.messages where conversation_id = ${conversationId}
            and role = 'assistant' and length(content) > 10`.then((r) => r[0]?.id),
    )
  );
  Deno.kill(before, "SIGKILL");
  await streamed; // the reply stream ends (cut) with its process

  // Only the conversations worker was replaced.
  const after = await until("conversations to restart", () => {
    const pid = pidOf("conversations");
    return Promise.resolve(pid !== before ? pid : null);
  }, 30_000);
  assert.ok(after);
  assert.equal(pidOf("health"), healthPid);
  assert.equal(pidOf("gateway"), gatewayPid);
  await stackAnswers(alice.token);
  const list = await until("conversations to answer again", async () => {
    const r = await alice.api("/conversations");
    return r.status === 200 ? r : null;
  }, 30_000);
  assert.ok(list.body.conversations.some((c: { id: string }) => c.id === conversationId));

  // The reply stopped streaming; once it is older than the wall-clock limit the recovery job ends
  // it as 'interrupted', keeping what was generated.
  await withDb(async (sql) => {
    const [m] = await sql`select status, content from public.messages where id = ${messageId}`;
    assert.equal(m.status, "streaming");
    // Aged past the limit (replica mode: the updated_at trigger would set it to now()).
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update public.messages set updated_at = now() - interval '1 hour'
               where id = ${messageId}`;
    });
    // pg_cron's own recovery run may hold the step for a moment (the run is then "skipped").
    const r = await until("the recovery step to end the reply", async () => {
      await runJob(sql, "recovery", { steps: ["stuck_messages"] });
      const [row] = await sql`select status, error_type, content from public.messages
                              where id = ${messageId}`;
      return row.status !== "streaming" ? row : null;
    });
    assert.equal(r.status, "error");
    assert.equal(r.error_type, "interrupted");
    assert.ok(r.content.length >= m.content.length && r.content.startsWith("w0"));
  });
});

Deno.test("a killed gateway comes back; Postgres and PostgREST keep running", async () => {
  const alice = await chatUser("gateway");
  const gateway = pidOf("gateway");
  const postgrest = `http://127.0.0.1:${cfg.ports.postgrestAdmin}/ready`;
  Deno.kill(gateway, "SIGKILL");
  // PostgREST (straight, not through the gateway) and Postgres stay up meanwhile.
  const ready = await fetch(postgrest);
  await ready.body?.cancel();
  assert.equal(ready.status, 200);
  await withDb(async (sql) => assert.equal((await sql`select 1 as one`)[0].one, 1));
  await until("the gateway to come back", async () => {
    try {
      const r = await fetch(`${env.SUPABASE_URL}/auth/v1/health`);
      await r.body?.cancel();
      return r.ok && pidOf("gateway") !== gateway;
    } catch {
      return false;
    }
  }, 60_000);
  await until("the functions to answer", async () => {
    const r = await call(`${FUNCTIONS_URL}/health`, { token: alice.token });
    return r.status === 200;
  }, 60_000);
  await stackAnswers(alice.token);
});
