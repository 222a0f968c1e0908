// `npm run bench [-- <scenario> ...]`: starts a fresh, throwaway bench stack (its own folder and
// ports, 26321+), runs the benchmark scenarios against it, writes bench/results/latest.json and
// latest.md, and stops the stack. Scenarios: chat, overhead, throughput, concurrency, scale,
// ingestion, search, reminders (all by default, in that order), and search-300k (only when
// named: the 300k-chunk point of the search curve, several minutes on 2 cores). See
// docs/BENCHMARKS.md.
//
// Each scenario is bounded in requests and time and targets loopback only. The bench stack's
// rate limits and budgets are raised (it is thrown away afterwards), and the load is spread
// over many users anyway.
import { join } from "node:path";
import { ROOT, stackConfig } from "../local/config.ts";
import { throwawayStack } from "../local/stack.ts";
import { chatTtft } from "./chat.ts";
import { concurrency } from "./concurrency.ts";
import { ingestion } from "./ingestion.ts";
import { overhead } from "./overhead.ts";
import { scale } from "./scale.ts";
import { type Bench, connectBench, loadAverage, type Result, writeResults } from "./lib.ts";
import { reminders } from "./reminders.ts";
import { search, search300k } from "./search.ts";
import { chatSlots } from "./streams.ts";
import { throughput } from "./throughput.ts";

const SCENARIOS = [
  "chat",
  "overhead",
  "throughput",
  "concurrency",
  "scale",
  "ingestion",
  "search",
  "reminders",
  "search-300k",
] as const;
type Scenario = typeof SCENARIOS[number];
/** Run only when named: too long for every run. */
const ON_REQUEST: Scenario[] = ["search-300k"];
/** Wall-clock budget per scenario; past it the run reports the scenario as failed. */
const BUDGET_S: Record<Scenario, number> = {
  chat: 120,
  overhead: 120,
  throughput: 90,
  concurrency: 150,
  scale: 120,
  ingestion: 240,
  search: 720,
  reminders: 300,
  "search-300k": 1500,
};

const wanted = Deno.args.length ? Deno.args : SCENARIOS.filter((s) => !ON_REQUEST.includes(s));
const unknown = wanted.filter((s) => !SCENARIOS.includes(s as Scenario));
if (unknown.length) {
  console.error(`unknown scenario ${unknown.join(", ")}; expected some of: ${SCENARIOS.join(" ")}`);
  Deno.exit(2);
}
const scenarios = SCENARIOS.filter((s) => wanted.includes(s));
// Both load their chunks into the one search_index table.
if (scenarios.includes("search") && scenarios.includes("search-300k")) {
  console.error("run search-300k without search (each loads its own chunks)");
  Deno.exit(2);
}

const cfg = stackConfig(Deno.env.get("AIDE_STACK") ?? "bench");
const stack = throwawayStack(cfg);

const log = (msg: string) => console.error(`[bench] ${msg}`);

async function withBudget<T>(name: string, seconds: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${name} went over its ${seconds} s budget`)),
      seconds * 1000,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function prepare(b: Bench) {
  // A throwaway stack: no rate limit or budget gets in the way of the load.
  await b.sql`update public.app_settings set value = '{"requests": 1000000, "window_seconds": 60}'
              where key in ('rate_limit.chat', 'rate_limit.write')`;
  await b
    .sql`update public.app_settings set value = '1000000' where key = 'budget.default_monthly_usd'`;
  // Replies in flight per user (default 3): the concurrency scenario opens 5 per user, the burst 6.
  await b
    .sql`update public.app_settings set value = '1000000' where key = 'chat.max_streams_per_user'`;
}

const started = performance.now();
const meta: Record<string, string> = {
  date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  machine: `${navigator.hardwareConcurrency} cores, ${
    Math.round(
      Number(Deno.readTextFileSync("/proc/meminfo").match(/MemTotal:\s+(\d+)/)![1]) / 1048576,
    )
  } GB, shared (load average at start ${loadAverage()})`,
  stack: `${cfg.name} (fresh), Deno ${Deno.version.deno}`,
  scenarios: scenarios.join(", "),
};
log(`starting the ${cfg.name} stack`);
const up = await stack.start();
if (!up) {
  log(`the ${cfg.name} stack did not start; see .local/${cfg.name}/logs/`);
  Deno.exit(1);
}
let b: Bench | null = null;
let failures = 0;
const rows: Result[] = [];
const notes: { scenario: string; text: string }[] = [];
const stopStack = async () => {
  await b?.sql.end({ timeout: 5 }).catch(() => {});
  await stack.stop();
};
Deno.addSignalListener("SIGINT", async () => {
  log("interrupted: stopping the stack");
  await stopStack();
  Deno.exit(130);
});
try {
  b = connectBench(cfg.name);
  await prepare(b);
  const needsChat = scenarios.some((s) =>
    s === "chat" || s === "throughput" || s === "concurrency"
  );

  const slots = needsChat ? await chatSlots(b, 50, 6) : [];
  for (const name of scenarios) {
    const t = performance.now();
    log(`${name}: running (budget ${BUDGET_S[name]} s)`);
    const note = (text: string) => notes.push({ scenario: name, text });
    try {
      const work = name === "chat"
        ? chatTtft(b, slots, note)
        : name === "throughput"
        ? throughput(b, slots, note)
        : name === "concurrency"
        ? concurrency(b, slots, note)
        : name === "overhead"
        ? overhead(b, note)
        : name === "scale"
        ? scale(b, note)
        : name === "ingestion"
        ? ingestion(b, note)
        : name === "search-300k"
        ? search300k(b, note)
        : name === "reminders"
        ? reminders(b, note)
        : search(b, note);
      const got = await withBudget(name, BUDGET_S[name], work);
      rows.push(...got);
      for (const r of got) {
        const flag = r.pass === null ? "" : r.pass ? "  ok" : "  MISSED";
        log(
          `  ${r.metric}: ${r.value} ${r.unit} (baseline ${r.baseline ?? "-"}, ratio ${
            r.ratio ?? "-"
          })${flag}`,
        );
      }
    } catch (e) {
      failures++;
      log(`${name} failed: ${e instanceof Error ? e.stack : e}`);
      notes.push({
        scenario: name,
        text: `did not complete: ${e instanceof Error ? e.message : e}`,
      });
      rows.push({
        scenario: name,
        metric: "completed",
        value: 0,
        unit: "bool",
        baseline: null,
        ratio: null,
        target: ">= 1",
        pass: false,
      });
    }
    log(`${name}: done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
} finally {
  await stopStack();
}
meta.duration = `${
  ((performance.now() - started) / 1000).toFixed(0)
} s (load average at end ${loadAverage()})`;
const ran: string[] = scenarios;
await writeResults(rows, ran, notes, meta);
// docs/BENCHMARKS.md shows the latest table between its two markers.
const doc = join(ROOT, "docs/BENCHMARKS.md");
try {
  const text = await Deno.readTextFile(doc);
  const table = await Deno.readTextFile(join(ROOT, "bench/results/latest.md"));
  const updated = text.replace(
    /(<!-- results:start -->\n)[\s\S]*?(<!-- results:end -->)/,
    (_, start, end) =>
      `${start}${
        table.replace("<!-- Generated by `npm run bench`; do not edit by hand. -->\n\n", "")
      }${end}`,
  );
  if (updated !== text) await Deno.writeTextFile(doc, updated);
} catch (e) {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
}
const missed = rows.filter((r) => r.pass === false);
log(`results: bench/results/latest.json, bench/results/latest.md`);
log(
  `${rows.filter((r) => r.pass).length} targets met, ${missed.length} missed${
    missed.length ? ": " + missed.map((r) => `${r.scenario} ${r.metric}`).join("; ") : ""
  }`,
);
Deno.exit(failures ? 1 : 0);
