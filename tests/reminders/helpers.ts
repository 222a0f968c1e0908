// Helpers for the reminder tests: users with a verified phone and WhatsApp consent, browsers
// subscribed at the fake push service, tasks with a scheduled start, the tick run at a chosen
// instant, and what the fakes received.
//
// The stack's own pg_cron runs the tick every minute at the real time, so tests schedule their
// tasks days ahead and run the tick with an explicit clock (`p_now`): the cron job never sees
// them due. Test files run in parallel, so each tick is limited to the test's own users.
import { call, connect, env, FUNCTIONS_URL, newUser, until } from "../_support/stack.ts";

export type Sql = ReturnType<typeof connect>;
// deno-lint-ignore no-explicit-any
export type Row = Record<string, any>;

export const TWILIO = env.AIDE_FAKE_TWILIO_URL;
export const PUSH = env.AIDE_FAKE_PUSH_URL;

export async function fake(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

/** A phone number no other test uses (the fakes key their scripts and records by number). */
export const newPhone = () =>
  `+3361${String(crypto.getRandomValues(new Uint32Array(1))[0] % 10_000_000).padStart(7, "0")}`;

export interface Person {
  id: string;
  token: string;
  phone: string | null;
  endpoint: string | null;
}

/** A user with, by default, a browser subscribed to push and a verified phone with WhatsApp consent. */
export async function person(
  sql: Sql,
  opts: { push?: boolean; phone?: boolean; whatsapp?: boolean; timezone?: string } = {},
): Promise<Person> {
  const user = await newUser("remind");
  const phone = opts.phone === false ? null : newPhone();
  await sql`update public.profiles set phone = ${phone}, phone_verified = ${phone !== null},
              whatsapp_opted_in_at = ${
    phone !== null && opts.whatsapp !== false ? sql`now()` : null
  },
              timezone = ${opts.timezone ?? "UTC"}
            where id = ${user.userId}`;
  let endpoint: string | null = null;
  if (opts.push !== false) endpoint = (await subscribe(user.token)).endpoint;
  return { id: user.userId, token: user.token, phone, endpoint };
}

/** A new browser subscription at the fake push service, saved through POST /push/subscriptions. */
export async function subscribe(token: string) {
  const browser = await fake(PUSH, "POST", "/__fake/push/subscriptions");
  const res = await call(`${FUNCTIONS_URL}/push/subscriptions`, {
    method: "POST",
    token,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(browser),
  });
  if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${res.text}`);
  return { ...browser, id: res.body.id as string };
}

/** A task starting at `startsAt` (a whole minute, days ahead unless a test needs otherwise). */
export async function task(
  sql: Sql,
  userId: string,
  startsAt: Date,
  title = "Run 5k",
): Promise<string> {
  const [{ id }] = await sql`
    insert into public.tasks (user_id, title, scheduled_at, duration_minutes, origin)
    values (${userId}, ${title}, ${startsAt}, 30, 'planner') returning id`;
  return id;
}

/** Noon UTC, `days` from now: outside the default quiet hours of a UTC user. */
export function noonIn(days: number): Date {
  const d = new Date(Date.now() + days * 86_400_000);
  d.setUTCHours(12, 0, 0, 0);
  return d;
}

export const minutes = (at: Date, n: number) => new Date(at.getTime() + n * 60_000);

/**
 * One run of the reminder tick with its clock at `now`, as pg_cron runs it, for these users'
 * chains only; returns what it claimed.
 */
export async function tick(
  sql: Sql,
  now: Date,
  users: (string | { id: string })[],
): Promise<number> {
  const at = now.toISOString();
  const ids = users.map((u) => typeof u === "string" ? u : u.id);
  const [{ id }] = await sql`select private.start_reminder_tick() as id`;
  while (
    (await sql`select private.reminder_tick_batch(${id}, ${at}::timestamptz, null, ${ids}::uuid[]) as more`)[
      0
    ].more
  ) { /* next batch */ }
  const [run] =
    await sql`select rows_affected::int as n, status from public.job_runs where id = ${id}`;
  if (run.status !== "done") throw new Error(`tick ended ${run.status}`);
  return run.n;
}

/** The task's reminder history, oldest first. */
export const log = (sql: Sql, taskId: string) =>
  sql`select * from public.notification_log where task_id = ${taskId} order by created_at, stage`;

/** Waits until none of the task's sends is pending or sending, and the fakes have finished their callbacks. */
export async function settled(sql: Sql, taskId: string, timeoutMs = 20_000) {
  await until("the sends to finish", async () => {
    const [{ n }] = await sql`select count(*)::int as n from public.notification_log
                              where task_id = ${taskId} and status in ('pending', 'sending')`;
    return n === 0 && (await fake(TWILIO, "GET", "/__fake/twilio/idle")).pending === 0;
  }, timeoutMs);
  return await log(sql, taskId);
}

export const chain = async (sql: Sql, taskId: string) =>
  (await sql`select * from private.reminder_chains where task_id = ${taskId}`)[0];

export const pushesTo = async (endpoint: string) =>
  (await fake(PUSH, "GET", "/__fake/push/messages")).filter((m: Row) => m.endpoint === endpoint);
export const messagesTo = async (phone: string) =>
  (await fake(TWILIO, "GET", "/__fake/twilio/messages")).filter((m: Row) =>
    m.to === `whatsapp:${phone}`
  );
export const callsTo = async (phone: string) =>
  (await fake(TWILIO, "GET", "/__fake/twilio/calls")).filter((m: Row) => m.to === phone);
