// Analytics (seed 001 4.5): overview (streak in the user's zone, today, heatmap), per-goal
// progress, misses by category, weekly stats. The weekly, category and heatmap numbers come from
// materialized views refreshed every few minutes by pg_cron (aide-planner-analytics).
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { json, route } from "../_shared/openapi.ts";
import {
  CategoryRow,
  GoalProgress,
  goalProgress,
  missedByCategory,
  Overview,
  overview,
  weekly,
  WeeklyRow,
} from "../_shared/planner/analytics.ts";
import { plannerProfile } from "../_shared/planner/profile.ts";

export const app = createApp<AuthedEnv>("analytics");
app.use("*", requireUser);

const getOverview = route({
  method: "get",
  path: "/overview",
  summary: "Streak (in the user's time zone), today's numbers and the activity heatmap",
  auth: "user",
  responses: { 200: json(Overview, "The overview") },
});
app.openapi(getOverview, async (c) => {
  const user = c.get("user");
  const { timeZone } = await plannerProfile(user.id);
  return c.json(await asUser(user.claims, (tx) => overview(tx, timeZone)), 200);
});

const getGoals = route({
  method: "get",
  path: "/goals",
  summary: "Progress per goal",
  auth: "user",
  responses: { 200: json(z.object({ goals: z.array(GoalProgress) }), "Per goal, newest first") },
});
app.openapi(getGoals, async (c) => {
  const goals = await asUser(c.get("user").claims, (tx) => goalProgress(tx));
  return c.json({ goals }, 200);
});

const getMissed = route({
  method: "get",
  path: "/missed-by-cat",
  summary: "Scheduled, done and missed tasks by category",
  auth: "user",
  responses: { 200: json(z.object({ categories: z.array(CategoryRow) }), "By category, most missed first") },
});
app.openapi(getMissed, async (c) => {
  const categories = await asUser(c.get("user").claims, (tx) => missedByCategory(tx));
  return c.json({ categories }, 200);
});

const getWeekly = route({
  method: "get",
  path: "/weekly",
  summary: "Weekly stats for the last weeks (local weeks, Monday first)",
  auth: "user",
  request: { query: z.strictObject({ weeks: z.coerce.number().int().min(1).max(104).default(12) }) },
  responses: { 200: json(z.object({ weeks: z.array(WeeklyRow) }), "Oldest week first") },
  errors: { 400: "Invalid weeks" },
});
app.openapi(getWeekly, async (c) => {
  const { weeks } = c.req.valid("query");
  const user = c.get("user");
  const { timeZone } = await plannerProfile(user.id);
  return c.json({ weeks: await asUser(user.claims, (tx) => weekly(tx, timeZone, weeks)) }, 200);
});
