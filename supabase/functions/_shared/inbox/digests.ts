// Scheduled digests: the pg_cron job aide-inbox-digests claims due subscriptions (inbox_digests)
// in bounded batches and posts their ids here; each becomes a summarize prompt of its user over
// the time since the last digest (at most a day), through the same path as POST /prompts, under
// the same budget. A few run at once; each one's outcome is stored on its row.
import type { CurrentUser } from "../auth.ts";
import { sql } from "../db.ts";
import { log } from "../http.ts";
import { budgetStatus } from "../limits.ts";
import { runPrompt } from "./prompts.ts";
import type { Source } from "./types.ts";

const AT_ONCE = 3;
const MAX_WINDOW_MS = 86_400_000;

interface DigestRow {
  id: string;
  user_id: string;
  frequency: "hourly" | "daily";
  sources: Source[] | null;
  last_run_at: Date | null;
  access: string;
}

export async function runDigests(ids: string[], requestId: string) {
  const rows = await sql<DigestRow[]>`
    select d.id, d.user_id, d.frequency, d.sources, d.last_run_at,
           private.account_access(d.user_id) as access
    from public.inbox_digests d where d.id = any(${ids}::uuid[]) and d.enabled`;
  const results: { digest_id: string; status: string; summary_id?: string; error?: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < rows.length) results.push(await runOne(rows[next++], requestId));
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, rows.length) }, worker));
  return { results };
}

async function runOne(d: DigestRow, requestId: string) {
  const fail = async (error: string) => {
    await sql`update public.inbox_digests set last_error = ${error} where id = ${d.id}`;
    return { digest_id: d.id, status: "skipped", error };
  };
  if (d.access !== "allowed") return await fail(`account not allowed: ${d.access}`);
  if ((await budgetStatus(d.user_id)).state === "hard") return await fail("monthly budget used up");
  const end = new Date();
  const period = d.frequency === "hourly" ? 3_600_000 : MAX_WINDOW_MS;
  const since = d.last_run_at ? new Date(d.last_run_at).getTime() : end.getTime() - period;
  const start = new Date(Math.max(since, end.getTime() - MAX_WINDOW_MS));
  const user: CurrentUser = {
    id: d.user_id,
    email: null,
    claims: { sub: d.user_id, role: "authenticated", aud: "authenticated" },
  };
  try {
    const answer = await runPrompt({ user, requestId, digestId: d.id, now: end }, {
      prompt: `${d.frequency === "hourly" ? "Hourly" : "Daily"} digest`,
      context: {
        intent: "summarize",
        time_window: { start: start.toISOString(), end: end.toISOString() },
        ...(d.sources?.length ? { sources: d.sources } : {}),
      },
    });
    const summaryId = String(answer.response.summary_id);
    await sql`update public.inbox_digests set last_run_at = ${end}, last_summary_id = ${summaryId},
              last_error = null where id = ${d.id}`;
    return { digest_id: d.id, status: "done", summary_id: summaryId };
  } catch (err) {
    log("warn", "digest failed", { digest_id: d.id, error: String(err) });
    return await fail(err instanceof Error ? err.message.slice(0, 500) : "failed");
  }
}
