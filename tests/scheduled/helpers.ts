// Helpers for the scheduled-work tests: running a job by hand, reading its records, test-only
// retention rules, and seeding rows with chosen ages.
//
// These tests share the database with every other test and with pg_cron, which runs the same
// jobs on its own schedule. So they only create rows of their own users, register test rules
// that match only those rows, and, where a test counts exactly what one run did, run the job
// from a session that holds the steps' advisory locks: pg_cron's runs then skip those steps,
// while runs from that session go ahead (advisory locks are re-entrant within a session).
import type postgres from "postgres";
import { connect } from "../_support/stack.ts";

export type Sql = ReturnType<typeof connect>;
// deno-lint-ignore no-explicit-any
export type Row = Record<string, any>;

export const uid = () => crypto.randomUUID().replaceAll("-", "").slice(0, 10);

export interface RunOptions {
  steps?: string[];
  batchSize?: number;
  maxBatches?: number;
  timeBudget?: string;
}

/**
 * Runs a job to its end as the pg_cron command does (private.start_job, then
 * private.run_job_batch until it says there is nothing left, each call its own transaction)
 * and returns the run id.
 */
export async function runJob(
  sql: Sql | postgres.ReservedSql,
  job: "retention" | "recovery",
  opts: RunOptions = {},
): Promise<string> {
  const [{ run }] = await sql`select private.start_job(${job}, ${opts.steps ?? null}::text[],
    ${opts.batchSize ?? null}::int, ${opts.maxBatches ?? null}::int,
    ${opts.timeBudget ?? null}::interval) as run`;
  while ((await sql`select private.run_job_batch(${run}) as more`)[0].more) { /* next batch */ }
  return run;
}

/** The run's records, by step. */
export async function records(sql: Sql, runId: string): Promise<Record<string, Row>> {
  const rows = await sql`select step, status, rows_affected::int as rows, batches, longest_batch_ms,
                                duration_ms, started_at, finished_at, error
                         from public.job_runs where run_id = ${runId}`;
  return Object.fromEntries(rows.map((r) => [r.step, r]));
}

/** A session holding the advisory locks of these steps, so that pg_cron's runs skip them. */
export async function exclusiveSession(
  sql: Sql,
  job: "retention" | "recovery",
  steps: string[],
) {
  const session = await sql.reserve();
  await session`select pg_advisory_lock(private.job_lock_key(${job}, s))
                from unnest(${steps}::text[]) s`;
  return {
    session,
    async release() {
      await session`select pg_advisory_unlock_all()`;
      session.release();
    },
  };
}

/**
 * A retention rule on `table` for this test only: its window is a fresh app_settings key (set
 * to `window`), and `condition` should limit it to the test's own rows.
 */
export async function testRule(
  sql: Sql,
  table: string,
  condition: string | null,
  opts: { window?: string; timeColumn?: string; batchSize?: number; name?: string } = {},
) {
  const name = opts.name ?? `test_${uid()}`;
  const setting = `retention.${name}`;
  await sql`insert into public.app_settings (key, value, description)
            values (${setting}, ${JSON.stringify(opts.window ?? "1 hour")}::jsonb, 'test rule')`;
  await sql`insert into private.retention_rules (name, table_name, time_column, window_setting,
                                                 condition, batch_size)
            values (${name}, ${table}::regclass, ${opts.timeColumn ?? "created_at"}, ${setting},
                    ${condition}, ${opts.batchSize ?? 1000})`;
  return {
    name,
    async drop() {
      await sql`delete from private.retention_rules where name = ${name}`;
      await sql`delete from public.app_settings where key = ${setting}`;
    },
  };
}

/** Inserts `count` usage_ledger rows for the user, created `age` ago (an interval). */
export async function ledgerRows(
  sql: Sql,
  userId: string,
  count: number,
  age: string,
  link: { conversationId?: string; messageId?: string } = {},
) {
  await sql`
    insert into public.usage_ledger (call_id, user_id, conversation_id, message_id, product_step,
      provider, model, provider_model, status, input_tokens, output_tokens, created_at)
    select gen_random_uuid(), ${userId}, ${link.conversationId ?? null}, ${link.messageId ?? null},
      'chat', 'openai', 'gpt-5.2', 'gpt-5.2', 'ok', 10, 20,
      now() - ${age}::interval - make_interval(secs => i)
    from generate_series(1, ${count}) i`;
}

/**
 * A conversation of the user with a chain of `messages` messages (user, assistant, ...), each
 * created a minute after the previous one starting `age` ago; the last one is the active leaf.
 * Returns the conversation id and the message ids, oldest first.
 */
export async function conversation(
  sql: Sql,
  userId: string,
  opts: { messages: number; age: string; deletedAgo?: string },
) {
  const [c] = await sql`
    insert into public.conversations (user_id, title, model, created_at, deleted_at)
    values (${userId}, 'retention test', 'gpt-5.2', now() - ${opts.age}::interval,
            now() - ${opts.deletedAgo ?? null}::interval)
    returning id`;
  const ids: string[] = [];
  for (let i = 0; i < opts.messages; i++) {
    const [m] = await sql`
      insert into public.messages (conversation_id, user_id, parent_id, role, content, created_at,
                                   updated_at)
      values (${c.id}, ${userId}, ${ids.at(-1) ?? null}, ${i % 2 ? "assistant" : "user"},
              ${`message ${i}`}, now() - ${opts.age}::interval + make_interval(mins => ${i}),
              now() - ${opts.age}::interval + make_interval(mins => ${i}))
      returning id`;
    ids.push(m.id);
  }
  if (ids.length) {
    await sql`update public.conversations set active_leaf_id = ${ids.at(-1)!},
                summary_through_id = ${ids[0]} where id = ${c.id}`;
  }
  return { id: c.id as string, messages: ids };
}

export { connect };
