// The connectors' scheduled work, run by the pg_cron job `aide-connectors` (every minute) through
// POST /connectors/jobs/tick with the Vault webhook secret, each step within a time budget:
//   slack_backfill  due backfill steps, paced by connectors.slack_history
//   graph_renew     Graph subscriptions expiring within connectors.graph_renew_before
//   token_rotation  oauth_tokens rows under an older key id, re-encrypted in batches
import { sql } from "../db.ts";
import type { LinkedAccount } from "./types.ts";
import { recording, renewSubscription } from "./microsoft.ts";
import { backfillStep } from "./slack.ts";
import { rotateTokenKeys, type RotationResult } from "./tokens.ts";

export const JOBS = ["slack_backfill", "graph_renew", "token_rotation"] as const;
export type ConnectorJob = (typeof JOBS)[number];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Backfill steps until none is due within the budget (waiting for the next when it is close). */
async function slackBackfill(deadline: number): Promise<number> {
  let steps = 0;
  while (Date.now() < deadline) {
    if (await backfillStep()) {
      steps++;
      continue;
    }
    const [next] = await sql<{ at: Date | null }[]>`
      select min(next_run_at) as at from private.slack_backfills where status = 'running'`;
    const wait = next?.at ? next.at.getTime() - Date.now() : Infinity;
    if (wait > deadline - Date.now()) break;
    await sleep(Math.max(wait, 50));
  }
  return steps;
}

async function graphRenew(deadline: number): Promise<number> {
  const due = await sql<LinkedAccount[]>`
    select a.* from private.graph_subscriptions s join public.linked_accounts a on a.id = s.linked_account_id
    where a.status = 'active' and (s.expires_at is null or s.expires_at < now() + coalesce(
      private.interval_setting('connectors.graph_renew_before'), interval '12 hours'))
    order by s.expires_at nulls first limit 100`;
  let renewed = 0;
  for (const account of due) {
    if (Date.now() > deadline) break;
    await recording(account, "subscription renewal", () => renewSubscription(account));
    renewed++;
  }
  return renewed;
}

export async function runJobs(jobs: readonly ConnectorJob[], budgetMs: number) {
  const deadline = Date.now() + budgetMs;
  const result: { slack_backfill?: number; graph_renew?: number; token_rotation?: RotationResult } =
    {};
  for (const job of jobs) {
    if (job === "slack_backfill") result.slack_backfill = await slackBackfill(deadline);
    if (job === "graph_renew") result.graph_renew = await graphRenew(deadline);
    if (job === "token_rotation") {
      result.token_rotation = await rotateTokenKeys({ batchSize: 100, maxBatches: 20 });
    }
  }
  return result;
}
