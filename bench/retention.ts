// Retention benchmark (SPEC §5): 1M expired usage_ledger rows among live ones are purged by the
// retention job's own procedure (rule usage_ledger) while concurrent inserters write to the same
// table. Reports the longest batch (how long a batch holds its locks: from its start to its
// commit) and the p99 latency of the concurrent inserts during the purge against the same
// inserts with no purge running.
//
//   node_modules/.bin/deno run -A local/stack.ts start --stack bench --detach --fresh --quiet
//   node_modules/.bin/deno run -A bench/retention.ts [--rows 1000000] [--live 100000]
//     [--batch-size N] [--inserters 2] [--idle-seconds 10]
//
// AIDE_STACK picks the stack (default: bench). Loopback only; the purge's time budget and the
// load bound the run (a few minutes). Output: one JSON line per figure, then a short table.
import { parseArgs } from "node:util";
import postgres from "postgres";
import { dbUrl, stackConfig } from "../local/config.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "1000000" },
    live: { type: "string", default: "100000" },
    "batch-size": { type: "string" },
    inserters: { type: "string", default: "2" },
    "idle-seconds": { type: "string", default: "10" },
  },
});
const EXPIRED = Number(args.rows);
const LIVE = Number(args.live);
const INSERTERS = Number(args.inserters);
const IDLE_MS = Number(args["idle-seconds"]) * 1000;
const RULE = "usage_ledger";
const PURGE_BUDGET = "15 minutes";

const cfg = stackConfig(Deno.env.get("AIDE_STACK") ?? "bench");
const url = dbUrl(cfg);
if (!/@(127\.0\.0\.1|localhost)[:/]/.test(url)) throw new Error("loopback stacks only");
const sql = postgres(url, { max: 4, onnotice: () => {} });

const emit = (metric: string, value: number | string, unit = "") =>
  console.log(JSON.stringify({ bench: "retention", metric, value, ...(unit ? { unit } : {}) }));

function percentile(sorted: number[], p: number) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Inserts ledger rows, one per statement, from `n` connections until `stop` resolves. */
async function insertWhile(userId: string, stop: Promise<unknown>) {
  let done = false;
  stop.then(() => (done = true), () => (done = true));
  const latencies: number[] = [];
  const conns = Array.from(
    { length: INSERTERS },
    () => postgres(url, { max: 1, onnotice: () => {} }),
  );
  await Promise.all(conns.map(async (c) => {
    await c`select 1`;
    while (!done) {
      const t = performance.now();
      await c`insert into public.usage_ledger (call_id, user_id, product_step, provider, model,
                provider_model, status, input_tokens, output_tokens, cost_micro_usd)
              values (gen_random_uuid(), ${userId}, 'chat', 'openai', 'gpt-5.2', 'gpt-5.2', 'ok',
                      100, 200, 50)`;
      latencies.push(performance.now() - t);
    }
  }));
  await Promise.all(conns.map((c) => c.end()));
  return latencies.sort((a, b) => a - b);
}

const [user] = await sql`insert into auth.users (email) values (${`bench-retention-${
  crypto.randomUUID().slice(0, 8)
}@example.com`})
                         returning id`;
// Holding the rule's advisory lock keeps pg_cron's scheduled runs off it during the benchmark;
// the purge below runs in this same session, where the lock is re-entrant.
const owner = await sql.reserve();
try {
  await owner`select pg_advisory_lock(private.job_lock_key('retention', ${RULE}))`;
  const [rule] = await sql`select r.batch_size, private.interval_setting(r.window_setting) as keep
                           from private.retention_rules r where r.name = ${RULE}`;
  const batchSize = Number(args["batch-size"] ?? rule.batch_size);

  // Load: expired and live rows interleaved on the same pages (one live row in every
  // EXPIRED/LIVE), bypassing the roll-up trigger for speed.
  const t0 = performance.now();
  const loader = await sql.reserve();
  await loader`set session_replication_role = replica`;
  const total = EXPIRED + LIVE;
  const every = Math.max(1, Math.round(total / Math.max(LIVE, 1)));
  for (let from = 1; from <= total; from += 100_000) {
    const to = Math.min(total, from + 99_999);
    await loader`
      insert into public.usage_ledger (call_id, user_id, product_step, provider, model,
        provider_model, status, input_tokens, output_tokens, cost_micro_usd, created_at)
      select gen_random_uuid(), ${user.id}, 'chat', 'openai', 'gpt-5.2', 'gpt-5.2', 'ok', 100, 200,
             50, case when i % ${every} = 0 and ${LIVE} > 0
                      then now() - random() * ${rule.keep}::interval * 0.9
                      else now() - ${rule.keep}::interval - interval '1 day'
                           - random() * interval '200 days' end
      from generate_series(${from}::int, ${to}::int) i`;
  }
  await loader`reset session_replication_role`;
  loader.release();
  await sql`vacuum analyze public.usage_ledger`;
  const [counts] = await sql`
    select count(*) filter (where created_at < now() - ${rule.keep}::interval)::int as expired,
           count(*) filter (where created_at >= now() - ${rule.keep}::interval)::int as live
    from public.usage_ledger where user_id = ${user.id}`;
  emit("rows_expired", counts.expired);
  emit("rows_live", counts.live);
  emit("load_seconds", +((performance.now() - t0) / 1000).toFixed(1), "s");
  emit("batch_size", batchSize);

  // Idle: the inserters alone.
  const idle = await insertWhile(user.id, new Promise((r) => setTimeout(r, IDLE_MS)));

  // Purge: the retention job's batches, as its pg_cron command runs them (each batch its own
  // transaction), until the rule has nothing left, with the inserters.
  const t1 = performance.now();
  const purge = (async () => {
    const [{ run }] = await owner`select private.start_job('retention', ${[RULE]}::text[],
                                    ${batchSize}::int, null::int, ${PURGE_BUDGET}::interval) as run`;
    while ((await owner`select private.run_job_batch(${run}) as more`)[0].more) { /* next */ }
    return run as string;
  })();
  const during = await insertWhile(user.id, purge);
  const runId = await purge;
  const purgeSeconds = (performance.now() - t1) / 1000;
  const [run] = await sql`select status, rows_affected::int as rows, batches, longest_batch_ms,
                                 duration_ms, error
                          from public.job_runs where run_id = ${runId} and step = ${RULE}`;
  if (run.status !== "done") throw new Error(`the purge ended ${run.status}: ${run.error ?? ""}`);
  const [after] = await sql`
    select count(*) filter (where created_at < now() - ${rule.keep}::interval)::int as expired,
           count(*) filter (where created_at >= now() - ${rule.keep}::interval)::int as live
    from public.usage_ledger where user_id = ${user.id}`;
  if (after.expired !== 0) throw new Error(`${after.expired} expired rows left`);

  const idleP50 = percentile(idle, 50), idleP99 = percentile(idle, 99);
  const purgeP50 = percentile(during, 50), purgeP99 = percentile(during, 99);
  emit("rows_purged", run.rows);
  emit("purge_batches", run.batches);
  emit("purge_seconds", +purgeSeconds.toFixed(1), "s");
  emit("purge_rows_per_second", Math.round(run.rows / purgeSeconds));
  emit("longest_batch_ms", run.longest_batch_ms, "ms");
  emit(
    "live_rows_kept",
    after.live - counts.live - idle.length - during.length === 0 ? "all" : "MISSING",
  );
  emit("insert_count_idle", idle.length);
  emit("insert_count_during_purge", during.length);
  emit("insert_p50_idle_ms", +idleP50.toFixed(2), "ms");
  emit("insert_p99_idle_ms", +idleP99.toFixed(2), "ms");
  emit("insert_p50_during_purge_ms", +purgeP50.toFixed(2), "ms");
  emit("insert_p99_during_purge_ms", +purgeP99.toFixed(2), "ms");
  emit("insert_p99_ratio", +(purgeP99 / idleP99).toFixed(2));

  const row = (what: string, value: string, target: string, ok: boolean) =>
    console.log(
      `${what.padEnd(40)} ${value.padStart(12)}   ${target.padEnd(12)} ${ok ? "ok" : "MISSED"}`,
    );
  console.log(`\n${"retention benchmark".padEnd(40)} ${"value".padStart(12)}   target`);
  row("rows purged", String(run.rows), "", true);
  row(`purge time (batch ${batchSize})`, `${purgeSeconds.toFixed(1)} s`, "", true);
  row(
    "longest batch (locks held)",
    `${run.longest_batch_ms} ms`,
    "<= 200 ms",
    run.longest_batch_ms <= 200,
  );
  row("insert p99 idle", `${idleP99.toFixed(2)} ms`, "", true);
  row("insert p99 during purge", `${purgeP99.toFixed(2)} ms`, "", true);
  row(
    "insert p99 ratio (purge / idle)",
    (purgeP99 / idleP99).toFixed(2),
    "<= 2",
    purgeP99 / idleP99 <= 2,
  );
} finally {
  await owner`select pg_advisory_unlock_all()`;
  owner.release();
  // The bench user's remaining rows go with the user (usage_daily too).
  await sql`delete from auth.users where id = ${user.id}`;
  await sql.end();
}
