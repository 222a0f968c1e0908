// Per-user limits, kept in Postgres so they hold across any number of function instances:
// rate limits per route class (429 with Retry-After; public routes count per client address)
// and the monthly budget (soft limit: a cheaper model answers; hard limit: 402 before any
// provider is called). The numbers live in app_settings (rate_limit.*, budget.*) with per-user
// overrides on the profile.
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AuthedEnv } from "./auth.ts";
import { clientKey } from "./client_address.ts";
import { sql } from "./db.ts";
import { ApiError } from "./http.ts";

/** chat: sends and regenerations; prompts: POST /prompts (inbox); search: searches; write: every other write. */
export type RouteClass = "chat" | "write" | "search" | "prompts";
/** Public routes, limited per client address (no user): shared: GET /shared/:token. */
export type ClientRouteClass = "shared";

export interface RateLimitRow {
  allowed: boolean;
  max_requests: number | null;
  window_seconds: number;
  retry_after_seconds: number;
}

/** A user's monthly budget, as private.budget_status() computes it. */
export const Budget = z.object({
  budget_usd: z.number().nullable(),
  spent_usd: z.number(),
  soft_limit_usd: z.number().nullable(),
  state: z.enum(["ok", "soft", "hard"]),
  downgrade_model: z.string().nullable(),
  period_start: z.string(),
  resets_at: z.string(),
}).openapi("Budget");
export type BudgetStatus = z.infer<typeof Budget>;

/** What the chat pipeline answers with past the soft limit, and what the stream tells the user. */
export interface ModelOverride {
  model: string;
  notice: { code: string; message: string };
}

function throwIfLimited(
  r: RateLimitRow | undefined,
  routeClass: RouteClass | ClientRouteClass,
): asserts r is RateLimitRow {
  if (!r) throw new ApiError(401, "unauthorized", "This account no longer exists");
  if (r.allowed) return;
  throw new ApiError(
    429,
    "rate_limited",
    `Too many ${routeClass} requests: at most ${r.max_requests} per ${r.window_seconds} s`,
    { retry_after_seconds: r.retry_after_seconds },
    { "retry-after": String(r.retry_after_seconds) },
  );
}

/** Counts one request of the class for the user; 429 once over the limit. */
export async function enforceRateLimit(userId: string, routeClass: RouteClass) {
  const [r] = await sql<RateLimitRow[]>`
    select * from private.check_rate_limit(${userId}, ${routeClass})`;
  throwIfLimited(r, routeClass);
}

/**
 * Rate limits a public route per client address (the platform's, see client_address.ts), in
 * the counters and settings (rate_limit.<class>) the per-user limits use.
 */
export const limitByClient = (routeClass: ClientRouteClass) =>
  createMiddleware(async (c, next) => {
    const [r] = await sql<RateLimitRow[]>`
      select * from private.check_client_rate_limit(${await clientKey(c.req.raw.headers)},
                                                    ${routeClass})`;
    throwIfLimited(r, routeClass);
    await next();
  });

/**
 * Rate limits every write (POST, PATCH, DELETE) as class "write", except the paths given,
 * which count as another class in their handler.
 */
export const limitWrites = (except?: RegExp) =>
  createMiddleware<AuthedEnv>(async (c, next) => {
    const write = !["GET", "HEAD", "OPTIONS"].includes(c.req.method);
    if (write && !except?.test(c.req.path)) await enforceRateLimit(c.get("user").id, "write");
    await next();
  });

export async function budgetStatus(userId: string): Promise<BudgetStatus> {
  const [row] = await sql<{ budget: BudgetStatus }[]>`
    select private.budget_status(${userId}) as budget`;
  return row.budget;
}

function throwIfBudgetSpent(b: BudgetStatus) {
  if (b.state !== "hard") return;
  throw new ApiError(
    402,
    "budget_exceeded",
    `You have used your monthly budget of $${b.budget_usd}; it resets on ${
      b.resets_at.slice(0, 10)
    }`,
    { budget_usd: b.budget_usd, spent_usd: b.spent_usd, resets_at: b.resets_at },
  );
}

/** 402 budget_exceeded once the user's monthly budget is spent: before any paid call. */
export async function requireBudget(userId: string) {
  throwIfBudgetSpent(await budgetStatus(userId));
}

function budgetGate(b: BudgetStatus): ModelOverride | undefined {
  const resets = b.resets_at.slice(0, 10);
  throwIfBudgetSpent(b);
  if (b.state === "soft" && b.downgrade_model) {
    return {
      model: b.downgrade_model,
      notice: {
        code: "budget_downgrade",
        message:
          `You have used most of your monthly budget ($${b.spent_usd} of $${b.budget_usd}), ` +
          `so ${b.downgrade_model} answers until it resets on ${resets}`,
      },
    };
  }
}

/**
 * What the chat gate answers for a request counted in `routeClass` (`rate`: the row of
 * private.check_rate_limit; routeClass null: counted by the caller before) with the user's
 * `budget`: 429 over the rate limit, 402 past the budget's hard limit, and past the soft limit
 * the cheaper model to answer with.
 */
export function gateAnswer(
  rate: RateLimitRow | null | undefined,
  budget: BudgetStatus | undefined,
  routeClass: RouteClass | null,
): ModelOverride | undefined {
  if (routeClass) throwIfLimited(rate ?? undefined, routeClass);
  return budgetGate(budget!);
}

/**
 * Before a chat reply (or another call of models: routeClass "prompts"), in one round trip:
 * counts the request against its rate limit (429), then checks the budget (402 past the hard
 * limit). Past the soft limit it returns the cheaper model to answer with. (A chat send does
 * this inside its one statement, private.prepare_reply.)
 */
export async function chatGate(
  c: Context<AuthedEnv>,
  routeClass: RouteClass = "chat",
): Promise<ModelOverride | undefined> {
  const userId = c.get("user").id;
  const [r] = await sql<(RateLimitRow & { budget: BudgetStatus })[]>`
    select l.*, case when l.allowed then private.budget_status(${userId}) end as budget
    from private.check_rate_limit(${userId}, ${routeClass}) l`;
  return gateAnswer(r, r?.budget, routeClass);
}
