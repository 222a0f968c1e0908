// Scenario "reminders": a tick with 10,000 due tasks (SPEC §5: done within the minute, no stage
// sent twice). 100 users with a browser subscribed at the fake push service have 100 tasks each,
// all starting at the same minute; two ticks run at once at start minus the lead time (as two
// overlapping pg_cron runs would), claim the 10,000 push stages and post them through pg_net to
// the reminders function, which encrypts and sends every push (web-push, aes128gcm) to the fake,
// which checks the VAPID token and decrypts each one.
//
// Figures: the ticks' own time (claims and posts), the time from the tick's start until every
// push is sent, and how many pushes the push service received for each task (must be exactly 1).
// Baseline: the same 10,000 pushes encrypted and sent by the same code (sendPush) straight from
// this process with the same concurrency, without the database, pg_net or the function.
import { sendPush, vapidConfig } from "../supabase/functions/_shared/reminders/push.ts";
import { type Bench, pool, type Result, result, sleep } from "./lib.ts";

const USERS = 100;
const TASKS_PER_USER = 100;
const TOTAL = USERS * TASKS_PER_USER;
const TIMEOUT_MS = 180_000;

async function fake(b: Bench, method: string, path: string, body?: unknown) {
  const res = await fetch(`${b.env.AIDE_FAKE_PUSH_URL}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`push fake ${path}: ${res.status}`);
  return await res.json();
}

async function tick(b: Bench, at: Date) {
  const [{ id }] = await b.sql`select private.start_reminder_tick() as id`;
  while (
    (await b
      .sql`select private.reminder_tick_batch(${id}, ${at.toISOString()}::timestamptz) as more`)[0]
      .more
  ) {
    /* next batch */
  }
  const [run] = await b
    .sql`select rows_affected::int as n, batches from public.job_runs where id = ${id}`;
  return run as { n: number; batches: number };
}

export async function reminders(b: Bench, note: (text: string) => void): Promise<Result[]> {
  const start = new Date(Date.now() + 30 * 86_400_000);
  start.setUTCHours(12, 0, 0, 0);
  const tag = crypto.randomUUID().slice(0, 8);

  // Users (profile trigger), one subscribed browser each, and their tasks (chain trigger).
  const users: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const id = crypto.randomUUID();
    await b.sql`insert into auth.users (id, email, email_confirmed_at)
                values (${id}, ${`remind-bench-${tag}-${i}@example.com`}, now())`;
    const sub = await fake(b, "POST", "/__fake/push/subscriptions");
    await b.sql`insert into public.push_subscriptions (user_id, endpoint, p256dh, auth)
                values (${id}, ${sub.endpoint}, ${sub.keys.p256dh}, ${sub.keys.auth})`;
    users.push(id);
  }
  await b.sql`
    insert into public.tasks (user_id, title, scheduled_at, duration_minutes, origin)
    select u, 'Bench task ' || n, ${start}, 30, 'planner'
    from unnest(${users}::uuid[]) u, generate_series(1, ${TASKS_PER_USER}) n`;
  const due = new Date(start.getTime() - 10 * 60_000);

  const t0 = performance.now();
  const [x, y] = await Promise.all([tick(b, due), tick(b, due)]);
  const tickMs = performance.now() - t0;
  note(
    `two concurrent ticks claimed ${x.n} + ${y.n} push stages in ${x.batches} + ${y.batches} batches`,
  );
  const ids = await b
    .sql`select l.id from public.notification_log l join public.tasks t on t.id = l.task_id
                          where t.user_id = any (${users}::uuid[])`;
  let left = TOTAL;
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    [{ left }] = await b.sql`select count(*)::int as left from public.notification_log
                             where user_id = any (${users}::uuid[]) and status in ('pending', 'sending')`;
    if (left === 0) break;
    await sleep(100);
  }
  const allSentMs = performance.now() - t0;
  const [{ sent }] = await b.sql`select count(*)::int as sent from public.notification_log
                                 where user_id = any (${users}::uuid[]) and status = 'sent'`;
  const received: { payload: string | null; status: number }[] = await fake(
    b,
    "GET",
    "/__fake/push/messages",
  );
  const perTask = new Map<string, number>();
  for (const m of received) {
    const task = m.payload ? JSON.parse(m.payload).task_id : null;
    if (task) perTask.set(task, (perTask.get(task) ?? 0) + 1);
  }
  const twice = [...perTask.values()].filter((n) => n > 1).length;
  note(
    `${ids.length} sends recorded, ${sent} sent, ${left} still open; ${perTask.size} tasks pushed, ${twice} more than once`,
  );

  // Baseline: the same pushes from this process, same code, 16 at a time (the dispatcher's).
  const cfg = vapidConfig(b.env)!;
  const targets = await b.sql<{ endpoint: string; p256dh: string; auth: string }[]>`
    select endpoint, p256dh, auth from public.push_subscriptions where user_id = any (${users}::uuid[])`;
  const b0 = performance.now();
  await pool(Array.from({ length: TOTAL }, (_, i) => i), 16, async (i) => {
    await sendPush(
      cfg,
      targets[i % targets.length],
      { type: "reminder", title: `Bench task ${i}` },
      { ttlSeconds: 3600 },
    );
  });
  const baselineMs = performance.now() - b0;

  return [
    result("reminders", "tick_10k_claim_ms", tickMs, "ms"),
    result("reminders", "tick_10k_all_sent_s", left === 0 ? allSentMs / 1000 : null, "s", {
      baseline: baselineMs / 1000,
      target: "<= 60",
    }),
    result("reminders", "tick_10k_sent", sent, "count", { target: `>= ${TOTAL}` }),
    result("reminders", "tick_10k_sent_twice", twice, "count", { target: "<= 0" }),
  ];
}
