// Usage and cost: `GET /usage` for the caller (by day, model and product step, plus budget
// status), and admin reports across users under /usage/admin/*. Reports read the daily
// roll-up (usage_daily) as the caller, so RLS decides what they see: admins read every user's
// rows through the admin policies; the TypeScript admin check only turns "not an admin" into a
// clear 403 instead of a report of one's own rows.
import type { Context } from "hono";
import { z } from "zod";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser, type Tx } from "../_shared/db.ts";
import { createApp } from "../_shared/app.ts";
import { ApiError } from "../_shared/http.ts";
import type { Operation } from "../_shared/openapi_legacy.ts";
import { budgetStatus } from "../_shared/limits.ts";
import { decodeCursor, encodeCursor, query } from "../_shared/validate.ts";

const app = createApp<AuthedEnv>("usage");
app.use("*", requireUser);

type C = Context<AuthedEnv>;
// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;

const MAX_DAYS = 366;
const DAY_MS = 86_400_000;
const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const today = () => isoDay(new Date());
const monthStart = () => `${today().slice(0, 8)}01`;

/** A period of whole UTC days, `from` and `to` included, at most MAX_DAYS long. */
const Period = {
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
};

function period(q: { from?: string; to?: string }, defaultDays?: number) {
  const to = q.to ?? today();
  const from = q.from ??
    (defaultDays ? isoDay(new Date(Date.parse(to) - (defaultDays - 1) * DAY_MS)) : monthStart());
  const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
  if (days < 1) throw new ApiError(400, "invalid_request", "`from` must not be after `to`");
  if (days > MAX_DAYS) {
    throw new ApiError(400, "invalid_request", `A period is at most ${MAX_DAYS} days`);
  }
  return { from, to };
}

const TOTALS = `coalesce(sum(calls), 0)::bigint as calls,
  coalesce(sum(input_tokens), 0)::bigint as input_tokens,
  coalesce(sum(output_tokens), 0)::bigint as output_tokens,
  coalesce(sum(cached_read_tokens), 0)::bigint as cached_read_tokens,
  coalesce(sum(cache_write_tokens), 0)::bigint as cache_write_tokens,
  coalesce(sum(reasoning_tokens), 0)::bigint as reasoning_tokens,
  coalesce(sum(cost_micro_usd), 0)::bigint as cost_micro_usd`;

/** Token counts and cost (stored in micro-USD, shown in USD). */
const totals = (r: Row) => ({
  calls: r.calls,
  input_tokens: r.input_tokens,
  output_tokens: r.output_tokens,
  cached_read_tokens: r.cached_read_tokens,
  cache_write_tokens: r.cache_write_tokens,
  reasoning_tokens: r.reasoning_tokens,
  cost_micro_usd: r.cost_micro_usd,
  cost_usd: r.cost_micro_usd / 1e6,
});

// --- The caller's own usage ------------------------------------------------------------------
const OwnUsage = z.strictObject(Period);

app.get("/", async (c) => {
  const { from, to } = period(query(c, OwnUsage));
  const me = c.get("user");
  const [report, budget] = await Promise.all([
    asUser(me.claims, async (tx) => {
      // Filter on the caller explicitly: an admin's RLS lets them read everyone's rows.
      const where = `from public.usage_daily where user_id = auth.uid() and day between $1 and $2`;
      const args = [from, to];
      const [all] = await tx.unsafe(`select ${TOTALS} ${where}`, args);
      const byDay = await tx.unsafe(
        `select to_char(day, 'YYYY-MM-DD') as day, ${TOTALS} ${where} group by day order by day`,
        args,
      );
      const byModel = await tx.unsafe(
        `select model, ${TOTALS} ${where} group by model order by sum(cost_micro_usd) desc, model`,
        args,
      );
      const byStep = await tx.unsafe(
        `select product, product_step, ${TOTALS} ${where}
         group by product, product_step order by sum(cost_micro_usd) desc, product, product_step`,
        args,
      );
      return { all, byDay, byModel, byStep };
    }),
    budgetStatus(me.id),
  ]);
  return c.json({
    from,
    to,
    totals: totals(report.all),
    by_day: report.byDay.map((r) => ({ day: r.day, ...totals(r) })),
    by_model: report.byModel.map((r) => ({ model: r.model, ...totals(r) })),
    by_step: report.byStep.map((r) => ({
      product: r.product,
      product_step: r.product_step,
      ...totals(r),
    })),
    budget,
  });
});

// --- Admin reports ---------------------------------------------------------------------------
/** Runs `fn` as the caller if they are an admin; 403 otherwise. RLS still applies inside. */
function asAdmin<T>(c: C, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return asUser(c.get("user").claims, async (tx) => {
    const [{ admin }] = await tx<{ admin: boolean }[]>`select private.is_admin() as admin`;
    if (!admin) throw new ApiError(403, "forbidden", "Admins only");
    return await fn(tx);
  });
}

const TopUsers = z.strictObject({
  ...Period,
  limit: z.coerce.number().int().min(1).max(100).default(10),
});

/** The users who spent the most in the period (default: this month). */
app.get("/admin/top-users", async (c) => {
  const q = query(c, TopUsers);
  const { from, to } = period(q);
  const rows = await asAdmin(c, (tx) =>
    tx.unsafe(
      `select d.user_id, p.email, p.display_name, ${TOTALS}
       from public.usage_daily d left join public.profiles p on p.id = d.user_id
       where d.day between $1 and $2
       group by d.user_id, p.email, p.display_name
       order by sum(d.cost_micro_usd) desc, d.user_id limit $3`,
      [from, to, q.limit],
    ));
  return c.json({
    from,
    to,
    users: rows.map((r) => ({
      user_id: r.user_id,
      email: r.email,
      display_name: r.display_name,
      ...totals(r),
    })),
  });
});

const ByModel = z.strictObject({
  ...Period,
  period: z.enum(["day", "week", "month"]).default("day"),
});
const DEFAULT_DAYS = { day: 30, week: 12 * 7, month: 365 };

/** Cost per model per day, ISO week (starting Monday) or calendar month, across all users. */
app.get("/admin/by-model", async (c) => {
  const q = query(c, ByModel);
  const { from, to } = period(q, DEFAULT_DAYS[q.period]);
  const rows = await asAdmin(c, (tx) =>
    tx.unsafe(
      `select to_char(date_trunc($3, day::timestamp), 'YYYY-MM-DD') as period_start, model,
              count(distinct user_id)::int as users, ${TOTALS}
       from public.usage_daily where day between $1 and $2
       group by 1, model order by 1, sum(cost_micro_usd) desc, model`,
      [from, to, q.period],
    ));
  return c.json({
    from,
    to,
    period: q.period,
    rows: rows.map((r) => ({
      period_start: r.period_start,
      model: r.model,
      users: r.users,
      ...totals(r),
    })),
  });
});

const Users = z.strictObject({
  ...Period,
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const UsersCursor = z.strictObject({ t: z.iso.datetime({ offset: true }), id: z.uuid() });

/** Every user (oldest account first, cursor-paginated) with their usage in the period. */
app.get("/admin/users", async (c) => {
  const q = query(c, Users);
  const { from, to } = period(q);
  const cursor = q.cursor ? decodeCursor(UsersCursor, q.cursor) : null;
  const rows = await asAdmin(c, (tx) =>
    tx.unsafe(
      `select p.id, p.email, p.display_name, p.role, p.monthly_budget_usd, p.created_at,
              to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_t, u.*
       from public.profiles p
       cross join lateral (
         select ${TOTALS} from public.usage_daily d
         where d.user_id = p.id and d.day between $1 and $2) u
       where $3::timestamptz is null or (p.created_at, p.id) > ($3::timestamptz, $4::uuid)
       order by p.created_at, p.id limit $5`,
      [from, to, cursor?.t ?? null, cursor?.id ?? null, q.limit + 1],
    ));
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return c.json({
    from,
    to,
    users: page.map((r) => ({
      user_id: r.id,
      email: r.email,
      display_name: r.display_name,
      role: r.role,
      monthly_budget_usd: r.monthly_budget_usd === null ? null : Number(r.monthly_budget_usd),
      created_at: r.created_at,
      ...totals(r),
    })),
    next_cursor: rows.length > q.limit && last
      ? encodeCursor({ t: last.cursor_t, id: last.id }) // microseconds, unlike a JS Date
      : null,
  });
});

/** This function's operations, for the OpenAPI document (npm run openapi). */
export const operations: Operation[] = [
  {
    method: "GET",
    path: "/",
    summary: "The caller's tokens and cost by day, model and step, and budget",
    auth: "user",
    query: OwnUsage,
    responses: { 200: "Usage", 400: "Bad period" },
  },
  {
    method: "GET",
    path: "/admin/top-users",
    summary: "Top users by cost (admins)",
    auth: "user",
    query: TopUsers,
    responses: { 200: "Users", 400: "Bad query", 403: "Not an admin" },
  },
  {
    method: "GET",
    path: "/admin/by-model",
    summary: "Cost by model and period (admins)",
    auth: "user",
    query: ByModel,
    responses: { 200: "Costs", 400: "Bad query", 403: "Not an admin" },
  },
  {
    method: "GET",
    path: "/admin/users",
    summary: "Every user's usage, paginated (admins)",
    auth: "user",
    query: Users,
    responses: { 200: "Users", 400: "Bad query or cursor", 403: "Not an admin" },
  },
];

export { app };
Deno.serve(app.fetch);
