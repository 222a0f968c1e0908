// The fan-out after the goal planner (classifier, scheduler and pattern observer run at the same
// time, then merge), and the pattern observer's counting, in process.
import assert from "node:assert/strict";
import { fanOutAndMerge, taskKey } from "../../supabase/functions/_shared/planner/pipeline.ts";
import { observe, streakDays } from "../../supabase/functions/_shared/planner/observer.ts";
import type {
  GoalPlannerOutput,
  Observation,
  ScheduleResult,
} from "../../supabase/functions/_shared/planner/types.ts";

const draft: GoalPlannerOutput = {
  goal: { title: "Learn Spanish", description: null, target_date: null },
  micro_goals: [{ position: 1, title: "Basics", description: null }],
  tasks: [
    {
      title: "Duolingo",
      details: null,
      duration_minutes: 15,
      rrule: "FREQ=DAILY",
      micro_goal: 1,
      preferred_time: "morning",
    },
    {
      title: "Find a tutor",
      details: null,
      duration_minutes: 30,
      rrule: null,
      micro_goal: 1,
      preferred_time: "any",
    },
  ],
  message: "Here is your plan.",
};

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

Deno.test("fan-out: classifier, scheduler and observer all start before any of them finishes, then merge", async () => {
  const started: string[] = [];
  const gates = {
    classify: deferred<string[]>(),
    schedule: deferred<ScheduleResult>(),
    observe: deferred<Observation>(),
  };
  const merged = fanOutAndMerge(draft, {
    classify: () => (started.push("classify"), gates.classify.promise),
    schedule: () => (started.push("schedule"), gates.schedule.promise),
    observe: () => (started.push("observe"), gates.observe.promise),
  }, "Europe/Madrid");
  await Promise.resolve();
  // All three are running while none has answered: they run concurrently, not one after another.
  assert.deepEqual(started.sort(), ["classify", "observe", "schedule"]);
  gates.observe.resolve({
    coldStart: false,
    avoid: [{ weekday: 1, hour: 7 }],
    patterns: [{
      kind: "missed_slot",
      key: "mon-07",
      description: "Tasks on mon at 7:00 are missed 80% of the time",
      data: {},
      confidence: 0.8,
      sample_size: 5,
    }],
  });
  gates.schedule.resolve({
    slots: [{
      key: taskKey(0),
      startLocal: "2027-03-02T08:00:00",
      startAt: "2027-03-02T07:00:00.000Z",
      occurrencesChecked: 14,
    }],
    unscheduled: [{ key: taskKey(1), reason: "conflicts with busy time" }],
  });
  gates.classify.resolve(["learning"]);
  const plan = await merged;
  assert.deepEqual(plan.categories, ["learning"]);
  assert.equal(plan.tasks[0].start_local, "2027-03-02T08:00:00");
  assert.equal(plan.tasks[1].start_local, null);
  assert.deepEqual(plan.insights, [
    "Avoided: tasks on mon at 7:00 are missed 80% of the time.",
    'No free slot for "Find a tutor" in the next days (conflicts with busy time).',
  ]);
  assert.equal(plan.time_zone, "Europe/Madrid");
});

Deno.test("observer: cold start below ten finished tasks; then missed and productive cells, categories, streak", () => {
  const at = (iso: string, status: "done" | "missed", categories = ["health"]) => ({
    scheduledAt: Date.parse(iso),
    status,
    categories,
  });
  assert.deepEqual(
    observe(
      [at("2027-03-01T06:00:00Z", "missed")],
      "Europe/Berlin",
      Date.parse("2027-03-10T12:00:00Z"),
    ),
    { patterns: [], avoid: [], coldStart: true },
  );
  const history = [
    // Mondays 07:00 Berlin (06:00Z in winter): missed 3 of 4.
    at("2027-02-08T06:00:00Z", "missed"),
    at("2027-02-15T06:00:00Z", "missed"),
    at("2027-02-22T06:00:00Z", "missed"),
    at("2027-03-01T06:00:00Z", "done"),
    // Daily 18:00 Berlin from 5 to 10 March: all done (a six-day streak up to today).
    ...["05", "06", "07", "08", "09", "10"].map((d) =>
      at(`2027-03-${d}T17:00:00Z`, "done", ["learning"])
    ),
  ];
  const o = observe(history, "Europe/Berlin", Date.parse("2027-03-10T20:00:00Z"));
  assert.equal(o.coldStart, false);
  assert.deepEqual(o.avoid, [{ weekday: 1, hour: 7 }]);
  const missed = o.patterns.find((p) => p.kind === "missed_slot")!;
  assert.equal(missed.key, "mon-07");
  assert.equal(missed.sample_size, 4);
  assert.equal(missed.confidence, 0.3); // 0.75 miss rate x 4/10 samples
  const categories = Object.fromEntries(
    o.patterns.filter((p) => p.kind === "category_performance").map((
      p,
    ) => [p.key, p.data.completion_rate]),
  );
  assert.deepEqual(categories, { health: 0.25, learning: 1 });
  assert.equal(o.patterns.find((p) => p.kind === "streak")!.data.days, 6);
});

Deno.test("streak: counts back from today (or yesterday when today has nothing yet); a miss or an empty day ends it", () => {
  const days = new Map([
    ["2027-03-07", { done: 1, missed: 0 }],
    ["2027-03-08", { done: 2, missed: 0 }],
    ["2027-03-09", { done: 1, missed: 0 }],
  ]);
  assert.equal(streakDays(days, "2027-03-10"), 3);
  assert.equal(
    streakDays(new Map([...days, ["2027-03-10", { done: 1, missed: 1 }]]), "2027-03-10"),
    0,
  );
  assert.equal(
    streakDays(new Map([...days, ["2027-03-05", { done: 1, missed: 0 }]]), "2027-03-09"),
    3,
  );
});
