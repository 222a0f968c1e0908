// The SDK's planner stream against the live stack and the scripted fake providers: a proposed
// plan arrives as a `data` event named "plan", approving it saves the goal and its tasks, and
// stop() of a turn (given its conversation_id) ends the reply as aborted.
import assert from "node:assert/strict";
import { marker, queueScript, withDb } from "../_support/chat.ts";
import { failure, userClient } from "./helpers.ts";
import type { SimpleEvent } from "../../packages/client/src/index.ts";

const json = (value: unknown) => ({ text: JSON.stringify(value) });
const route = (intent: string, extra: Record<string, unknown> = {}) =>
  json({ intent, approves_plan: false, goal_id: null, reply: "", ...extra });

type PlanData = { version: number; status: string; tasks: { title: string }[] };

Deno.test("planner stream: the plan arrives as a data event, approve saves goal and tasks, stop aborts the turn", async () => {
  const { aide, userId } = await userClient("planstream");
  await withDb((sql) =>
    sql`update public.profiles set timezone = 'Europe/Berlin', preferences = ${
      sql.json({
        working_hours: { start: "07:00", end: "20:00", days: [1, 2, 3, 4, 5, 6, 7] },
        quiet_hours: { start: "22:00", end: "06:00" },
      })
    } where id = ${userId}`
  );
  const tag = marker("sdkplan");
  await queueScript("anthropic", route("new_goal"), { contains: tag });
  await queueScript("anthropic", json({
    goal: { title: `Learn Spanish ${tag}`, description: null, target_date: null },
    micro_goals: [{ position: 1, title: "Basics", description: null }],
    tasks: [
      { title: "Vocabulary 20 min", details: null, duration_minutes: 20, rrule: null, micro_goal: 1, preferred_time: "morning" },
      { title: "Grammar lesson", details: null, duration_minutes: 30, rrule: null, micro_goal: 1, preferred_time: "afternoon" },
    ],
    message: "Here is a Spanish plan. Shall I save it?",
  }), { contains: tag });
  await queueScript("anthropic", json({ categories: ["learning"] }), { contains: tag });

  const events: SimpleEvent[] = [];
  for await (const event of aide.planner.send({ content: `I want to learn Spanish ${tag}` })) {
    events.push(event);
  }
  assert.equal(events.at(-1)?.type, "done", JSON.stringify(events.at(-1)));
  const part = events.find((e) => e.type === "data");
  assert.ok(part?.type === "data" && part.name === "plan", "a plan data event");
  const proposed = part.data as PlanData;
  assert.equal(proposed.version, 1);
  assert.equal(proposed.status, "proposed");
  assert.deepEqual(proposed.tasks.map((t) => t.title), ["Vocabulary 20 min", "Grammar lesson"]);
  assert.match(
    events.map((e) => e.type === "token" ? e.content : "").join(""),
    /Spanish plan/,
  );
  const count = () =>
    withDb((sql) => sql`select count(*)::int as n from public.goals where user_id = ${userId}`);
  assert.equal((await count())[0].n, 0, "nothing saved before approval");

  const approved = await aide.planner.approve(part.id, { version: 1 });
  assert.equal(approved.status, "approved");
  const goalId = approved.goal_id!;
  const [goal] = await withDb((sql) =>
    sql`select title, user_id from public.goals where id = ${goalId}`
  );
  assert.deepEqual([goal.title, goal.user_id], [`Learn Spanish ${tag}`, userId]);
  const rows = await withDb((sql) =>
    sql`select title, status, origin, user_id from public.tasks
        where goal_id = ${goalId} order by title`
  );
  assert.deepEqual(
    rows.map((r) => [r.title, r.status, r.origin, r.user_id]),
    [["Grammar lesson", "open", "planner", userId], ["Vocabulary 20 min", "open", "planner", userId]],
  );
  assert.deepEqual(
    (await aide.goals.tasks(goalId)).tasks.map((t) => t.title).sort(),
    ["Grammar lesson", "Vocabulary 20 min"],
  );

  // Stop: a slow turn in the same conversation (its id from the stored plan).
  const { conversation_id } = await aide.planner.plan(part.id);
  const slow = marker("sdkslow");
  await queueScript("anthropic", { ...route("question", { reply: "late" }), delay_ms: 8000 }, {
    contains: slow,
  });
  const turn = aide.planner.send({ content: `think hard ${slow}`, conversation_id });
  let running: string | null = null;
  for (let i = 0; i < 50 && !running; i++) {
    running = await aide.conversations.runningReply(conversation_id);
    if (!running) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(running, "the turn's reply is running");
  const started = performance.now();
  await turn.stop();
  const reply = await turn.text().catch(() => null);
  assert.ok(reply === null || reply.text === "" || reply.error?.code === "aborted");
  const [m] = await withDb((sql) => sql`select status from public.messages where id = ${running}`);
  assert.equal(m.status, "aborted");
  assert.ok(performance.now() - started < 6000, "stopped before the slow model answered");

  // Without a conversation id, stop() says what it needs instead of doing nothing.
  const loose = aide.planner.send({ content: `another ${marker("loose")}` });
  const refused = await failure(loose.stop());
  assert.equal(refused.code, "conversation_required");
  await loose.text().catch(() => {});
});
