// Usage and cost: `GET /usage` for the caller (by day, model and product step, plus budget
// status), and admin reports across users under /usage/admin/*. Reports read the daily
// roll-up (usage_daily) as the caller, so RLS decides what they see: admins read every user's
// rows through the admin policies; the TypeScript admin check only turns "not an admin" into a
// clear 403 instead of a report of one's own rows.
import { z } from "@hono/zod-openapi";
import { asAdmin } from "../_shared/admin.ts";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { ApiError } from "../_shared/http.ts";
import { Budget, budgetStatus } from "../_shared/limits.ts";
import { json, route } from "../_shared/openapi.ts";
import { type UsageColumns, UsageTotals, usageTotals } from "../_shared/usage.ts";
import { decodeCursor, encodeCursor } from "../_shared/validate.ts";

export const app = createApp<AuthedEnv>("usage");
app.use("*", requireUser);

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

/** The TOTALS columns of a report row. */
type Totals = UsageColumns & { calls: number };

/** A report row's totals: calls, tokens and cost (also in micro-USD, as stored). */
const totals = (r: Totals) => ({
  calls: r.calls,
  ...usageTotals(r),
  cost_micro_usd: r.cost_micro_usd,
});

const ReportTotals = UsageTotals.extend({
  calls: z.number().int(),
  cost_micro_usd: z.number().int(),
}).openapi("ReportTotals");
const Period_ = { from: z.iso.date(), to: z.iso.date() };
const ADMIN_ERRORS = { 400: "Bad query", 403: "Not an admin" };

// --- The caller's own usage ------------------------------------------------------------------
const OwnUsage = z.strictObject(Period);

const OwnReport = z.object({
  ...Period_,
  totals: ReportTotals,
  by_day: z.array(ReportTotals.extend({ day: z.iso.date() })),
  by_model: z.array(ReportTotals.extend({ model: z.string() })),
  by_step: z.array(ReportTotals.extend({ product: z.string(), product_step: z.string() })),
  budget: Budget,
}).openapi("UsageReport");

app.openapi(
  route({
    method: "get",
    path: "/",
    summary: "The caller's tokens and cost by day, model and step, and budget",
    auth: "user",
    request: { query: OwnUsage },
    responses: { 200: json(OwnReport, "Usage") },
    errors: { 400: "Bad period" },
  }),
  async (c) => {
    const { from, to } = period(c.req.valid("query"));
    const me = c.get("user");
    const [report, budget] = await Promise.all([
      asUser(me.claims, async (tx) => {
        // Filter on the caller explicitly: an admin's RLS lets them read everyone's rows.
        const where =
          `from public.usage_daily where user_id = auth.uid() and day between $1 and $2`;
        const args = [from, to];
        const [all] = await tx.unsafe<Totals[]>(`select ${TOTALS} ${where}`, args);
        const byDay = await tx.unsafe<(Totals & { day: string })[]>(
          `select to_char(day, 'YYYY-MM-DD') as day, ${TOTALS} ${where} group by day order by day`,
          args,
        );
        const byModel = await tx.unsafe<(Totals & { model: string })[]>(
          `select model, ${TOTALS} ${where} group by model order by sum(cost_micro_usd) desc, model`,
          args,
        );
        const byStep = await tx.unsafe<(Totals & { product: string; product_step: string })[]>(
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
    }, 200);
  },
);

// --- Admin reports ---------------------------------------------------------------------------
const UserNames = { email: z.string().nullable(), display_name: z.string().nullable() };

const TopUsers = z.strictObject({
  ...Period,
  limit: z.coerce.number().int().min(1).max(100).default(10),
});

/** The users who spent the most in the period (default: this month). */
app.openapi(
  route({
    method: "get",
    path: "/admin/top-users",
    summary: "Top users by cost (admins)",
    auth: "user",
    request: { query: TopUsers },
    responses: {
      200: json(
        z.object({
          ...Period_,
          users: z.array(ReportTotals.extend({ user_id: z.uuid(), ...UserNames })),
        }).openapi("TopUsers"),
        "Users",
      ),
    },
    errors: ADMIN_ERRORS,
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { from, to } = period(q);
    const rows = await asAdmin(c.get("user").claims, (tx) =>
      tx.unsafe<
        (Totals & { user_id: string; email: string | null; display_name: string | null })[]
      >(
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
    }, 200);
  },
);

const ByModel = z.strictObject({
  ...Period,
  period: z.enum(["day", "week", "month"]).default("day"),
});
const DEFAULT_DAYS = { day: 30, week: 12 * 7, month: 365 };

/** Cost per model per day, ISO week (starting Monday) or calendar month, across all users. */
app.openapi(
  route({
    method: "get",
    path: "/admin/by-model",
    summary: "Cost by model and period (admins)",
    auth: "user",
    request: { query: ByModel },
    responses: {
      200: json(
        z.object({
          ...Period_,
          period: ByModel.shape.period.unwrap(),
          rows: z.array(
            ReportTotals.extend({
              period_start: z.iso.date(),
              model: z.string(),
              users: z.number().int(),
            }),
          ),
        }).openapi("CostByModel"),
        "Costs",
      ),
    },
    errors: ADMIN_ERRORS,
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { from, to } = period(q, DEFAULT_DAYS[q.period]);
    const rows = await asAdmin(
      c.get("user").claims,
      (tx) =>
        tx.unsafe<(Totals & { period_start: string; model: string; users: number })[]>(
          `select to_char(date_trunc($3, day::timestamp), 'YYYY-MM-DD') as period_start, model,
              count(distinct user_id)::int as users, ${TOTALS}
       from public.usage_daily where day between $1 and $2
       group by 1, model order by 1, sum(cost_micro_usd) desc, model`,
          [from, to, q.period],
        ),
    );
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
    }, 200);
  },
);

const Users = z.strictObject({
  ...Period,
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const UsersCursor = z.strictObject({ t: z.iso.datetime({ offset: true }), id: z.uuid() });

/** Every user (oldest account first, cursor-paginated) with their usage in the period. */
app.openapi(
  route({
    method: "get",
    path: "/admin/users",
    summary: "Every user's usage, paginated (admins)",
    auth: "user",
    request: { query: Users },
    responses: {
      200: json(
        z.object({
          ...Period_,
          users: z.array(ReportTotals.extend({
            user_id: z.uuid(),
            ...UserNames,
            role: z.enum(["user", "admin"]),
            monthly_budget_usd: z.number().nullable(),
            created_at: z.iso.datetime({ offset: true }),
          })),
          next_cursor: z.string().nullable(),
        }).openapi("UsersUsage"),
        "Users",
      ),
    },
    errors: { 400: "Bad query or cursor", 403: "Not an admin" },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { from, to } = period(q);
    const cursor = q.cursor ? decodeCursor(UsersCursor, q.cursor) : null;
    const rows = await asAdmin(c.get("user").claims, (tx) =>
      tx.unsafe<
        (Totals & {
          id: string;
          email: string | null;
          display_name: string | null;
          role: "user" | "admin";
          monthly_budget_usd: string | null;
          created_at: Date;
          cursor_t: string;
        })[]
      >(
        `select p.id, p.email, p.display_name, p.role, p.monthly_budget_usd, p.created_at,
              to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_t, u.*
       from public.profiles p
       cross join lateral (
         select ${TOTALS} from public.usage_daily d
         where d.user_id = p.id and d.day between $1 and $2) u
       -- $3 is sent as text: postgres.js turns a timestamptz parameter into a JS Date, which
       -- cuts the cursor's microseconds and would show its last user again on the next page.
       where $3::text is null or (p.created_at, p.id) > ($3::text::timestamptz, $4::uuid)
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
    }, 200);
  },
);

/** Ratings of replies per model per day, ISO week or month (by when the feedback was last given). */
app.openapi(
  route({
    method: "get",
    path: "/admin/feedback",
    summary: "Reply feedback by model and period (admins)",
    auth: "user",
    request: { query: ByModel },
    responses: {
      200: json(
        z.object({
          ...Period_,
          period: ByModel.shape.period.unwrap(),
          rows: z.array(z.object({
            period_start: z.iso.date(),
            model: z.string().nullable(),
            up: z.number().int(),
            down: z.number().int(),
            /** Feedback with a comment. */
            comments: z.number().int(),
            users: z.number().int(),
          })),
        }).openapi("FeedbackByModel"),
        "Ratings",
      ),
    },
    errors: ADMIN_ERRORS,
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { from, to } = period(q, DEFAULT_DAYS[q.period]);
    const rows = await asAdmin(c.get("user").claims, (tx) =>
      tx.unsafe<
        {
          period_start: string;
          model: string | null;
          up: number;
          down: number;
          comments: number;
          users: number;
        }[]
      >(
        `select to_char(date_trunc($3, (updated_at at time zone 'UTC')::date::timestamp), 'YYYY-MM-DD')
              as period_start, model,
              count(*) filter (where rating = 'up')::int as up,
              count(*) filter (where rating = 'down')::int as down,
              count(comment)::int as comments, count(distinct user_id)::int as users
       from public.message_feedback
       where updated_at >= $1::date and updated_at < $2::date + 1
       group by 1, model order by 1, model nulls last`,
        [from, to, q.period],
      ));
    return c.json({ from, to, period: q.period, rows }, 200);
  },
);
