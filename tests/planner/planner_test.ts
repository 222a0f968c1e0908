// The planner conversation end to end against the stack and the scripted fake providers: the
// orchestrator routes every intent, a goal is proposed as a data-plan part, negotiated (same
// plan id, next version), approved (goal, micro-goals and tasks in one go), its tasks completed
// (the pipeline advances, the goal completes), abandoned (open tasks cancelled); every agent
// call metered with its product step; invalid model output repaired within bounds.
import assert from "node:assert/strict";
import {
  type ChatUser,
  chatUser,
  type Chunk,
  marker,
  queueScript,
  readSse,
  textOf,
  withDb,
} from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";

const json = (value: unknown) => ({ text: JSON.stringify(value) });
const route = (intent: string, extra: Record<string, unknown> = {}) =>
  json({ intent, approves_plan: false, goal_id: null, reply: "", ...extra });

function draft(tag: string, tasks = 3) {
  return {
    goal: { title: `Run a 5k ${tag}`, description: "From the couch to 5 km", target_date: null },
    micro_goals: [
      { position: 1, title: "Walk-run", description: null },
      { position: 2, title: "Run 3 km", description: null },
    ],
    tasks: [
      {
        title: "Walk-run 20 min",
        details: null,
        duration_minutes: 30,
        rrule: "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=3",
        micro_goal: 1,
        preferred_time: "morning",
      },
      {
        title: "Buy running shoes",
        details: null,
        duration_minutes: 60,
        rrule: null,
        micro_goal: 1,
        preferred_time: "afternoon",
      },
      {
        title: "Run 3 km",
        details: null,
        duration_minutes: 40,
        rrule: null,
        micro_goal: 2,
        preferred_time: "morning",
      },
    ].slice(0, tasks),
    message: `Here is a plan to run a 5k (${tasks} tasks). Shall I save it?`,
  };
}

async function plannerUser() {
  const u = await chatUser("planner");
  await withDb((sql) =>
    sql`update public.profiles set timezone = 'Europe/Berlin', preferences = ${
      sql.json({
        working_hours: { start: "07:00", end: "20:00", days: [1, 2, 3, 4, 5, 6, 7] },
        quiet_hours: { start: "22:00", end: "06:00" },
      })
    } where id = ${u.userId}`
  );
  return u;
}

async function say(
  u: ChatUser,
  content: string,
  extra: Record<string, unknown> = {},
  path = "/planner/messages",
) {
  const res = await fetch(`${FUNCTIONS_URL}${path}`, {
    method: path.startsWith("/goals") ? "PATCH" : "POST",
    headers: { authorization: `Bearer ${u.token}`, "content-type": "application/json" },
    body: JSON.stringify({ content, ...extra }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const chunks = (await readSse(res)).filter((c): c is Chunk => typeof c === "object");
  const start = chunks.find((c) => c.type === "start");
  return {
    chunks,
    text: textOf(chunks),
    plan: chunks.find((c) => c.type === "data-plan"),
    conversationId: start?.messageMetadata?.conversationId as string,
    messageId: start?.messageId as string,
    error: chunks.find((c) => c.type === "error"),
  };
}

Deno.test("planner: a goal's lifecycle: proposal, negotiation, approval, tasks, completion and the pipeline advancing", async () => {
  const u = await plannerUser();
  const tag = marker("goal");
  await queueScript("anthropic", route("new_goal"), { contains: tag });
  await queueScript("anthropic", json(draft(tag)), { contains: tag });
  await queueScript("anthropic", json({ categories: ["health"] }), { contains: tag });
  const first = await say(u, `I want to run a 5k by spring ${tag}`);
  assert.equal(first.error, undefined, JSON.stringify(first.error));
  assert.match(first.text, /plan to run a 5k \(3 tasks\)/);
  const plan = first.plan!;
  assert.ok(plan, "a data-plan part");
  assert.equal(plan.data.version, 1);
  assert.equal(plan.data.status, "proposed");
  assert.deepEqual(plan.data.categories, ["health"]);
  assert.equal(plan.data.tasks.length, 3);
  assert.ok(
    plan.data.tasks.every((t: { start_local: string }) => t.start_local),
    "every task has a slot",
  );
  // Nothing is saved before approval.
  const goalsBefore = await withDb((sql) =>
    sql`select count(*)::int as n from public.goals where user_id = ${u.userId}`
  );
  assert.equal(goalsBefore[0].n, 0);
  const [conv] = await withDb((sql) =>
    sql`select kind from public.conversations where id = ${first.conversationId}`
  );
  assert.equal(conv.kind, "planner");

  // Negotiation: the same plan, revised.
  await queueScript("anthropic", route("modify_goal"), { contains: "fewer tasks" });
  await queueScript("anthropic", json(draft(tag, 2)), { contains: "fewer tasks" });
  await queueScript("anthropic", json({ categories: ["health", "mindfulness"] }), {
    contains: tag,
  });
  const second = await say(u, "fewer tasks please", { conversation_id: first.conversationId });
  assert.equal(second.plan?.id, plan.id, "same plan id");
  assert.equal(second.plan?.data.version, 2);
  assert.equal(second.plan?.data.tasks.length, 2);

  // Approving the version the user no longer sees is refused.
  const stale = await u.api(`/planner/plans/${plan.id}/approve`, {
    method: "POST",
    json: { version: 1 },
  });
  assert.equal(stale.status, 409, stale.text);
  // An affirmative reply approves what is on offer.
  await queueScript("anthropic", route("small_talk", { approves_plan: true }), {
    contains: "sounds good",
  });
  const third = await say(u, "sounds good, save it", { conversation_id: first.conversationId });
  assert.equal(third.plan?.data.status, "approved");
  const goalId = third.plan?.data.goal_id as string;
  const goal = await u.api(`/goals/${goalId}`);
  assert.equal(goal.status, 200, goal.text);
  assert.equal(goal.body.title, `Run a 5k ${tag}`);
  assert.deepEqual(goal.body.categories, ["health", "mindfulness"]);
  assert.deepEqual(goal.body.micro_goals.map((m: { status: string }) => m.status), [
    "active",
    "locked",
  ]);
  const tasks = (await u.api(`/goals/${goalId}/tasks`)).body.tasks;
  assert.equal(tasks.length, 4, "3 occurrences of the series, and the shoes"); // draft(tag, 2)
  assert.ok(
    tasks.every((t: { micro_goal_id: string; origin: string }) =>
      t.micro_goal_id && t.origin === "planner"
    ),
  );
  assert.equal(
    (await u.api(`/planner/plans/${plan.id}/approve`, { method: "POST", json: { version: 2 } }))
      .status,
    409,
  );

  // Micro-goal 1 is done with its last task (its series has no occurrences left): 2 unlocks.
  for (const [i, t] of tasks.entries()) {
    const done = await u.api(`/tasks/${t.id}/complete`, { method: "PATCH" });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.micro_goal_done, i === tasks.length - 1);
  }
  const after = await u.api(`/goals/${goalId}`);
  assert.deepEqual(after.body.micro_goals.map((m: { status: string }) => m.status), [
    "done",
    "active",
  ]);
  assert.deepEqual(after.body.progress, { total: 4, done: 4, missed: 0, open: 0 });

  // Every agent call is in the ledger with its product step, on this conversation.
  const steps = await withDb((sql) =>
    sql`select product, product_step, count(*)::int as n from public.usage_ledger
    where conversation_id = ${first.conversationId} group by 1, 2 order by 2`
  );
  assert.deepEqual(steps.map((s) => `${s.product}:${s.product_step}:${s.n}`), [
    "planner:planner.classifier:2",
    "planner:planner.goal_planner:2",
    "planner:planner.orchestrator:3",
  ]);
  // The stored reply keeps the plan part: replay shows it again.
  const [stored] = await withDb((sql) =>
    sql`select status, parts from public.messages where id = ${third.messageId}`
  );
  assert.equal(stored.status, "complete");
  assert.ok(
    stored.parts.some((p: { type: string; name: string }) =>
      p.type === "data" && p.name === "plan"
    ),
  );
  const replayed = await fetch(
    `${FUNCTIONS_URL}/conversations/${first.conversationId}/messages/${third.messageId}/stream`,
    {
      headers: { authorization: `Bearer ${u.token}` },
    },
  );
  const chunks = (await readSse(replayed)) as Chunk[];
  assert.equal(chunks.find((c) => c.type === "data-plan")?.data.status, "approved");
});

Deno.test("planner: the orchestrator's other intents get a reply and no plan", async () => {
  const u = await plannerUser();
  for (const intent of ["question", "small_talk", "task_action", "onboarding"]) {
    const tag = marker(intent);
    await queueScript("anthropic", route(intent, { reply: `reply for ${intent}` }), {
      contains: tag,
    });
    const r = await say(u, `something ${tag}`);
    assert.equal(r.text, `reply for ${intent}`);
    assert.equal(r.plan, undefined, intent);
  }
});

Deno.test("planner: approving by id saves the plan; abandoning the goal cancels its open tasks", async () => {
  const u = await plannerUser();
  const tag = marker("abandon");
  await queueScript("anthropic", route("new_goal"), { contains: tag });
  await queueScript("anthropic", json(draft(tag)), { contains: tag });
  await queueScript("anthropic", json({ categories: ["health"] }), { contains: tag });
  const r = await say(u, `plan a 5k ${tag}`);
  const approved = await u.api(`/planner/plans/${r.plan!.id}/approve`, {
    method: "POST",
    json: { version: 1 },
  });
  assert.equal(approved.status, 200, approved.text);
  const goalId = approved.body.goal_id;
  const other = await chatUser("planner-other");
  assert.equal((await other.api(`/goals/${goalId}`)).status, 404);
  assert.equal((await other.api(`/planner/plans/${r.plan!.id}`)).status, 404);
  assert.equal((await other.api(`/goals/${goalId}/abandon`, { method: "PATCH" })).status, 404);
  const tasks = (await u.api(`/goals/${goalId}/tasks`)).body.tasks;
  await u.api(`/tasks/${tasks[0].id}/complete`, { method: "PATCH" });
  const abandoned = await u.api(`/goals/${goalId}/abandon`, { method: "PATCH" });
  assert.equal(abandoned.status, 200, abandoned.text);
  assert.equal(abandoned.body.goal.status, "abandoned");
  assert.equal(abandoned.body.cancelled_tasks, tasks.length - 1);
  const statuses = await withDb((sql) =>
    sql`select status, count(*)::int as n from public.tasks where goal_id = ${goalId} group by 1 order by 1`
  );
  assert.deepEqual(statuses.map((s) => `${s.status}:${s.n}`), [
    "cancelled:" + (tasks.length - 1),
    "done:1",
  ]);
  const [series] = await withDb((sql) =>
    sql`select status from public.task_series where goal_id = ${goalId}`
  );
  assert.equal(series.status, "cancelled");
  assert.equal((await u.api(`/goals/${goalId}/abandon`, { method: "PATCH" })).status, 409);
  assert.equal((await u.api(`/goals?status=abandoned`)).body.goals[0].id, goalId);
});

Deno.test("planner: invalid model output is repaired within bounds; past them the reply ends in error", async () => {
  const u = await plannerUser();
  const tag = marker("repair");
  await queueScript("anthropic", { text: "not json at all" }, { contains: tag });
  await queueScript("anthropic", route("question", { reply: "fixed" }), { contains: tag });
  const r = await say(u, `what now ${tag}`);
  assert.equal(r.text, "fixed");
  const rows = await withDb((sql) =>
    sql`select count(*)::int as n from public.usage_ledger
    where message_id = ${r.messageId} and product_step = 'planner.orchestrator'`
  );
  assert.equal(rows[0].n, 2, "both rounds metered");

  const bad = marker("broken");
  await queueScript("anthropic", { text: '{"intent": "dance"}' }, { contains: bad }, 3);
  const failed = await say(u, `hello ${bad}`);
  assert.equal(failed.error?.type, "error");
  const [m] = await withDb((sql) =>
    sql`select status, error_type from public.messages where id = ${failed.messageId}`
  );
  assert.deepEqual({ ...m }, { status: "error", error_type: "invalid_output" });
});

Deno.test("planner: the classifier only keeps categories of the taxonomy", async () => {
  const u = await plannerUser();
  const tag = marker("taxo");
  await queueScript("anthropic", route("new_goal"), { contains: tag });
  await queueScript("anthropic", json(draft(tag, 1)), { contains: tag });
  await queueScript("anthropic", json({ categories: ["sports", "health"] }), { contains: tag });
  await queueScript(
    "anthropic",
    json({ categories: ["health", "learning", "career", "finance"] }),
    { contains: tag },
  );
  await queueScript("anthropic", json({ categories: ["learning", "health"] }), { contains: tag });
  const r = await say(u, `learn to run ${tag}`);
  assert.deepEqual(r.plan?.data.categories, ["learning", "health"]);
});

Deno.test("planner: a modify turn on a goal revises it; approval replaces its future and keeps what was done", async () => {
  const u = await plannerUser();
  const tag = marker("modify");
  await queueScript("anthropic", route("new_goal"), { contains: tag });
  await queueScript("anthropic", json(draft(tag)), { contains: tag });
  await queueScript("anthropic", json({ categories: ["health"] }), { contains: tag });
  const r = await say(u, `5k ${tag}`);
  const goalId =
    (await u.api(`/planner/plans/${r.plan!.id}/approve`, { method: "POST", json: { version: 1 } }))
      .body.goal_id;
  const shoes = (await u.api(`/goals/${goalId}/tasks`)).body.tasks.find((t: { title: string }) =>
    t.title === "Buy running shoes"
  );
  await u.api(`/tasks/${shoes.id}/complete`, { method: "PATCH" });

  const again = marker("again");
  await queueScript("anthropic", route("modify_goal"), { contains: again });
  await queueScript(
    "anthropic",
    json({
      ...draft(tag, 1),
      goal: { title: `Run a 10k ${tag}`, description: null, target_date: null },
    }),
    { contains: again },
  );
  await queueScript("anthropic", json({ categories: ["health"] }), { contains: tag });
  const m = await say(u, `make it a 10k ${again}`, {}, `/goals/${goalId}/modify`);
  assert.equal(m.plan?.data.goal_id, goalId);
  const ok = await u.api(`/planner/plans/${m.plan!.id}/approve`, {
    method: "POST",
    json: { version: 1 },
  });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.goal_id, goalId);
  const goal = (await u.api(`/goals/${goalId}`)).body;
  assert.equal(goal.title, `Run a 10k ${tag}`);
  const rows = await withDb((sql) =>
    sql`select title, status from public.tasks where goal_id = ${goalId} order by status, title`
  );
  assert.ok(
    rows.some((t) => t.title === "Buy running shoes" && t.status === "done"),
    "done work stays",
  );
  assert.ok(rows.filter((t) => t.status === "open").every((t) => t.title === "Walk-run 20 min"));
});

Deno.test("planner: ?stream=simple sends the plan as a data event; a stop request ends a turn as aborted", async () => {
  const u = await plannerUser();
  const tag = marker("simple");
  await queueScript("anthropic", route("new_goal"), { contains: tag });
  await queueScript("anthropic", json(draft(tag, 1)), { contains: tag });
  await queueScript("anthropic", json({ categories: ["health"] }), { contains: tag });
  const res = await fetch(`${FUNCTIONS_URL}/planner/messages?stream=simple`, {
    method: "POST",
    headers: { authorization: `Bearer ${u.token}`, "content-type": "application/json" },
    body: JSON.stringify({ content: `a plan ${tag}` }),
  });
  const events = (await readSse(res)) as Chunk[];
  const data = events.find((e) => e.type === "data");
  assert.equal(data?.name, "plan");
  assert.equal(data?.data.version, 1);
  assert.equal(events.at(-1)?.type, "done");

  // A slow orchestrator, stopped from another request.
  const slow = marker("slow");
  await queueScript("anthropic", { ...route("question", { reply: "late" }), delay_ms: 8000 }, {
    contains: slow,
  });
  const turn = await fetch(`${FUNCTIONS_URL}/planner/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${u.token}`, "content-type": "application/json" },
    body: JSON.stringify({ content: `think hard ${slow}` }),
  });
  const reader = turn.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const start = JSON.parse(first.split("\n").find((l) => l.startsWith("data: "))!.slice(6));
  const stop = await u.api(
    `/conversations/${start.messageMetadata.conversationId}/messages/${start.messageId}/stop`,
    { method: "POST" },
  );
  assert.ok(stop.status < 300, stop.text);
  await reader.cancel();
  const [m] = await withDb((sql) =>
    sql`select status from public.messages where id = ${start.messageId}`
  );
  assert.equal(m.status, "aborted");
});
