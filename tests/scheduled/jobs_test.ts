// The jobs themselves: registered once however often the migration runs, and every run leaves
// a record of what it did (counts, time, status, errors) that admins, and only admins, can read.
import assert from "node:assert/strict";
import { join } from "node:path";
import { BIN, dbUrl, ROOT } from "../../local/config.ts";
import { call, cfg, env, newUser, REST_URL } from "../_support/stack.ts";
import { connect, ledgerRows, records, runJob, testRule } from "./helpers.ts";

// The scheduled-work migration, and the one that replaced its procedure by batch functions.
const MIGRATIONS = [
  "supabase/migrations/20261126020000_scheduled_work.sql",
  "supabase/migrations/20261201011000_advisor_clean.sql",
].map((m) => join(ROOT, m));
/** The pg_cron command of a job: batches that commit one by one, in a DO block. */
const command = (job: string) =>
  `do $$ declare run uuid := private.start_job('${job}'); begin commit; ` +
  `while private.run_job_batch(run) loop commit; end loop; end $$`;
const JOBS = {
  "aide-retention": { schedule: "*/10 * * * *", command: command("retention") },
  "aide-recovery": { schedule: "* * * * *", command: command("recovery") },
};

Deno.test("applying the migration again leaves one job per name, with its schedule", async () => {
  const state = `select json_build_object(
      'jobs', (select json_agg(json_build_array(jobname, schedule, command) order by jobname)
               from cron.job where jobname like 'aide-%'),
      'rules', (select count(*) from private.retention_rules),
      'steps', (select count(*) from private.recovery_steps),
      'settings', (select count(*) from public.app_settings))`;
  // Twice more on top of the stack's own run, in a transaction rolled back at the end so the
  // tests running alongside see nothing of it.
  const out = await new Deno.Command(join(BIN.pg, "psql"), {
    args: [
      dbUrl(cfg),
      "-X",
      "-q",
      "-At",
      "-v",
      "ON_ERROR_STOP=1",
      "-c",
      state,
      "-c",
      "begin",
      ...MIGRATIONS.flatMap((m) => ["-f", m]),
      ...MIGRATIONS.flatMap((m) => ["-f", m]),
      "-c",
      state,
      "-c",
      "rollback",
    ],
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  const [before, after] = new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) =>
    l.startsWith("{")
  ).map((l) => JSON.parse(l));
  assert.deepEqual(after, before, "a second application changed jobs, rules, steps or settings");

  const jobs = after.jobs.filter(([name]: string[]) => name in JOBS);
  assert.deepEqual(
    jobs,
    Object.entries(JOBS).map(([name, j]) => [name, j.schedule, j.command]).sort(),
  );
  const names = after.jobs.map(([name]: string[]) => name);
  assert.equal(new Set(names).size, names.length, "a job name is registered twice");
  assert.ok(!names.includes("aide-purge-cron-history"), "the old cron-history job is still there");
});

Deno.test("each run records its counts per step; a failing rule is recorded and the others still run", async () => {
  const sql = connect();
  const user = await newUser("jobs");
  const ok = await testRule(sql, "public.usage_ledger", `user_id = '${user.userId}'`);
  const noColumn = await testRule(sql, "public.usage_ledger", `user_id = '${user.userId}'`, {
    timeColumn: "no_such_column",
  });
  const noWindow = await testRule(sql, "public.usage_ledger", `user_id = '${user.userId}'`);
  await sql`delete from public.app_settings where key = ${"retention." + noWindow.name}`;
  try {
    await ledgerRows(sql, user.userId, 5, "2 hours");
    const runId = await runJob(sql, "retention", {
      steps: [noColumn.name, ok.name, noWindow.name],
      batchSize: 2,
    });
    const rec = await records(sql, runId);
    assert.equal(Object.keys(rec).length, 3);
    assert.equal(rec[ok.name].status, "done");
    assert.equal(rec[ok.name].rows, 5);
    assert.equal(rec[ok.name].batches, 4, "2 + 2 + 1, then an empty batch");
    assert.equal(rec[ok.name].error, null);
    assert.ok(rec[ok.name].longest_batch_ms >= 0);
    assert.ok(rec[ok.name].duration_ms >= rec[ok.name].longest_batch_ms);
    assert.ok(rec[ok.name].finished_at >= rec[ok.name].started_at);
    assert.equal(rec[noColumn.name].status, "failed");
    assert.match(rec[noColumn.name].error, /has no column no_such_column/);
    assert.equal(rec[noWindow.name].status, "failed");
    assert.match(rec[noWindow.name].error, /must be a positive interval/);
    const [left] =
      await sql`select count(*)::int from public.usage_ledger where user_id = ${user.userId}`;
    assert.equal(left.count, 0);

    // A recovery run leaves a record for each of its steps too, even with nothing to do
    // ("skipped" when pg_cron's own recovery run, or another test, holds the step right then).
    const recovery = await records(sql, await runJob(sql, "recovery"));
    for (const step of ["stale_job_runs", "stuck_messages"]) {
      assert.ok(
        ["done", "skipped"].includes(recovery[step]?.status),
        `${step}: ${recovery[step]?.status} ${recovery[step]?.error}`,
      );
      assert.equal(typeof recovery[step].rows, "number");
    }

    // A run that died mid-step (here: a record left running for two hours) is marked failed.
    const [dead] = await sql`insert into public.job_runs (run_id, job, step, started_at)
                             values (gen_random_uuid(), 'retention', ${ok.name},
                                     now() - interval '2 hours') returning id`;
    await runJob(sql, "recovery", { steps: ["stale_job_runs"] });
    const [marked] = await sql`select status, error from public.job_runs where id = ${dead.id}`;
    assert.equal(marked.status, "failed");
    assert.match(marked.error, /interrupted/);
  } finally {
    await ok.drop();
    await noColumn.drop();
    await sql`delete from private.retention_rules where name = ${noWindow.name}`;
    await sql.end();
  }
});

Deno.test("admins read job runs through the API; users and anon see none and write none", async () => {
  const sql = connect();
  const admin = await newUser("admin");
  const user = await newUser("jobs");
  try {
    await sql`update public.profiles set role = 'admin' where id = ${admin.userId}`;
    const runId = await runJob(sql, "recovery", { steps: ["stuck_messages"] });
    const path = `${REST_URL}/job_runs?run_id=eq.${runId}&select=job,step,status,rows_affected`;

    const asAdmin = await call(path, { token: admin.token });
    assert.equal(asAdmin.status, 200, asAdmin.text);
    assert.deepEqual(asAdmin.body.map((r: { step: string }) => r.step), ["stuck_messages"]);
    const asUser = await call(path, { token: user.token });
    assert.deepEqual([asUser.status, asUser.body], [200, []]);
    const asAnon = await call(path, { token: env.SUPABASE_ANON_KEY });
    assert.equal(asAnon.status, 401, "anon has no access to job_runs at all");

    for (const token of [user.token, admin.token]) {
      const insert = await call(`${REST_URL}/job_runs`, {
        method: "POST",
        token,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ run_id: runId, job: "retention", step: "forged" }),
      });
      assert.ok([401, 403].includes(insert.status), `insert: ${insert.status}`);
      const update = await call(`${REST_URL}/job_runs?run_id=eq.${runId}`, {
        method: "PATCH",
        token,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ status: "failed" }),
      });
      assert.ok([401, 403].includes(update.status), `update: ${update.status}`);
    }
    const rows = await sql`select step, status from public.job_runs where run_id = ${runId}`;
    assert.deepEqual(rows.map((r) => r.step), ["stuck_messages"]);
    assert.ok(["done", "skipped"].includes(rows[0].status), rows[0].status); // skipped: another run held it
  } finally {
    await sql.end();
  }
});

Deno.test("the jobs' pg_cron command runs a job to its end, committing after every batch", async () => {
  const sql = connect();
  try {
    const [{ command }] = await sql`select command from cron.job where jobname = 'aide-recovery'`;
    const [{ since }] = await sql`select clock_timestamp() as since`;
    await sql.unsafe(command);
    const rows = await sql`select step, status from public.job_runs
                           where job = 'recovery' and started_at >= ${since}`;
    for (const step of ["stale_job_runs", "stuck_messages", "stuck_ingestion", "due_ingestion"]) {
      // skipped: pg_cron's own run held the step right then.
      assert.ok(
        rows.some((r) => r.step === step && ["done", "skipped"].includes(r.status)),
        `${step}: ${JSON.stringify(rows.filter((r) => r.step === step))}`,
      );
    }
    const [{ plans }] = await sql`select count(*)::int as plans from private.job_run_plans
                                  where created_at >= ${since} and job = 'recovery'
                                    and run_id in (select run_id from public.job_runs
                                                   where started_at >= ${since}
                                                   group by run_id
                                                   having bool_and(status <> 'running'))`;
    assert.equal(plans, 0, "a finished run left its plan behind");
  } finally {
    await sql.end();
  }
});
