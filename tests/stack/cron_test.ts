// pg_cron runs the jobs that migrations register. The test moves the retention job (every 10
// minutes) to every 5 seconds (pg_cron 1.5+, as on hosted projects) and waits for one run.
import assert from "node:assert/strict";
import { connect, until } from "../_support/stack.ts";

Deno.test("the pg_cron job registered by a migration runs and does its work", async () => {
  const sql = connect();
  try {
    const [job] = await sql`select jobid, schedule, command from cron.job
                            where jobname = 'aide-retention'`;
    assert.equal(job.schedule, "*/10 * * * *");
    const [{ since }] = await sql`select now() as since`;

    // A run record from two weeks ago that the job must purge (retention rule cron_history).
    const [old] = await sql`
      insert into cron.job_run_details (jobid, job_pid, database, username, command, status,
                                        return_message, start_time, end_time)
      values (${job.jobid}, 0, 'postgres', 'postgres', ${job.command}, 'succeeded', 'old',
              now() - interval '14 days', now() - interval '14 days')
      returning runid`;
    await sql`select cron.alter_job(${job.jobid}, schedule := '5 seconds')`;
    try {
      const [run] = await until(
        "a run of the job",
        () =>
          sql`select status, return_message from cron.job_run_details
            where jobid = ${job.jobid} and runid <> ${old.runid} and start_time >= ${since}
              and status in ('succeeded', 'failed')`
            .then((rows) => rows.length ? rows : null),
        30_000,
      );
      assert.equal(run.status, "succeeded", run.return_message);
      const left = await sql`select 1 from cron.job_run_details where runid = ${old.runid}`;
      assert.equal(left.length, 0, "the two-week-old run record was not purged");
      // The run left its record in job_runs.
      const [rec] = await sql`select count(*)::int as runs
                              from public.job_runs
                              where job = 'retention' and step = 'cron_history'
                                and started_at >= ${since} and status <> 'running'`;
      assert.ok(rec.runs >= 1, "no job_runs record for the scheduled run");
    } finally {
      await sql`select cron.alter_job(${job.jobid}, schedule := ${job.schedule})`;
    }
  } finally {
    await sql.end();
  }
});
