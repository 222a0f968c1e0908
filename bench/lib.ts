// What every benchmark scenario shares: the running bench stack (URLs, keys, a superuser
// connection), statistics, readers for a process's CPU time and memory, and the results file.
//
// Every figure is reported next to a baseline measured in the same run (the provider called
// directly, the Supabase guide's search function, the embedder alone, ...), because our
// machines are shared and noisy: absolute numbers move from run to run, ratios much less.
import { join } from "node:path";
import postgres from "postgres";
import { dbUrl, readEnvFile, ROOT, type StackConfig, stackConfig } from "../local/config.ts";

export const RESULTS_DIR = join(ROOT, "bench/results");

// --- The stack under test ---------------------------------------------------------------------

export interface Bench {
  cfg: StackConfig;
  env: Record<string, string>;
  functionsUrl: string;
  fakeAnthropicUrl: string;
  fakeOpenAIUrl: string;
  /** Superuser connection to the stack's database. */
  sql: postgres.Sql;
  /**
   * Pid of the process that runs the `conversations` function (chat): its own worker
   * (local/functions/worker.ts, one per function, a child of the gateway), or the gateway itself
   * on a stack that runs every function in one process.
   */
  functionsPid: number;
  /** Pid of the gateway (local/gateway.ts): JWT check and proxying in front of the workers. */
  gatewayPid: number;
  fakesPid: number;
}

export function connectBench(name = Deno.env.get("AIDE_STACK") ?? "bench"): Bench {
  const cfg = stackConfig(name);
  const env = readEnvFile(join(cfg.dir, "stack.env"));
  if (!env.SUPABASE_URL) throw new Error(`the ${name} stack is not running`);
  for (const url of [env.SUPABASE_URL, env.SUPABASE_DB_URL, env.AIDE_FAKE_ANTHROPIC_URL]) {
    // Benchmarks only ever target this machine.
    if (!/^[a-z]+:\/\/([^@/]*@)?127\.0\.0\.1[:/]/.test(url)) {
      throw new Error(`not loopback: ${url}`);
    }
  }
  const gateway = findProcess("local/gateway.ts", `AIDE_API_PORT=${cfg.ports.api}`);
  return {
    cfg,
    env,
    functionsUrl: `${env.SUPABASE_URL}/functions/v1`,
    fakeAnthropicUrl: env.AIDE_FAKE_ANTHROPIC_URL,
    fakeOpenAIUrl: env.AIDE_FAKE_OPENAI_URL,
    sql: postgres(dbUrl(cfg), { max: 8, onnotice: () => {} }),
    functionsPid: functionWorker(gateway, "conversations") ?? gateway,
    gatewayPid: gateway,
    fakesPid: findProcess("local/fakes/server.ts", `--anthropic-port\0${cfg.ports.anthropic}`),
  };
}

/** The worker process of function `name` started by the gateway `gatewayPid`, if there is one. */
export function functionWorker(gatewayPid: number, name: string): number | null {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== gatewayPid) continue;
      const args = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      if (args.some((a) => a.endsWith("local/functions/worker.ts")) && args.includes(name)) {
        return Number(entry.name);
      }
    } catch { /* gone */ }
  }
  return null;
}

/** The pid of the process whose command line has `script` and whose cmdline or env has `mark`. */
function findProcess(script: string, mark: string): number {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (!cmdline.includes(script)) continue;
      const environ = Deno.readTextFileSync(`/proc/${entry.name}/environ`);
      if (cmdline.includes(mark) || environ.split("\0").includes(mark)) return Number(entry.name);
    } catch { /* gone, or not ours to read */ }
  }
  throw new Error(`no process runs ${script} with ${mark.replace("\0", " ")}`);
}

// --- Process readers (Linux /proc) --------------------------------------------------------------

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux we run

/**
 * User + system CPU time of a process so far, in milliseconds ("self" for this one); with
 * `exitedChildren`, also that of its children that have exited (and been waited for).
 */
export function cpuTimeMs(pid: number | "self", exitedChildren = false): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name (which may contain spaces) start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = [11, 12, ...(exitedChildren ? [13, 14] : [])]
    .reduce((sum, i) => sum + Number(fields[i]), 0); // utime, stime, cutime, cstime
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** CPU time of the stack's Postgres (the postmaster and every backend and worker), in ms. */
export function postgresCpuMs(b: Bench): number {
  const postmaster = Number(
    Deno.readTextFileSync(`${b.cfg.dir}/pgdata/postmaster.pid`).split("\n")[0],
  );
  let total = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      // Backends that have exited count in the postmaster's children's time.
      if (Number(entry.name) === postmaster) total += cpuTimeMs(postmaster, true);
      else if (ppid === postmaster) total += cpuTimeMs(Number(entry.name));
    } catch { /* gone */ }
  }
  return total;
}

/** CPU time of the stack's processes that do the work: functions, Postgres, fake providers. */
export function stackCpu(b: Bench) {
  return {
    functions: cpuTimeMs(b.functionsPid),
    postgres: postgresCpuMs(b),
    fakes: cpuTimeMs(b.fakesPid),
  };
}

/** CPU ms per `per` units of work between two stackCpu() readings, as a short text. */
export function cpuSplit(
  before: ReturnType<typeof stackCpu>,
  after: ReturnType<typeof stackCpu>,
  units: number,
  per: string,
) {
  const f = (k: keyof typeof before) => ((after[k] - before[k]) / units).toFixed(1);
  return `CPU ms per ${per}: functions ${f("functions")}, Postgres ${
    f("postgres")
  }, fake providers ${f("fakes")}`;
}

/** Resident memory of a process in MB. */
export function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? NaN);
  return kb / 1024;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak. */
export function sampleRss(pid: number, everyMs = 50) {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(pid));
    } catch { /* process gone: keep the last peak */ }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

export function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

// --- Statistics ---------------------------------------------------------------------------------

/** Percentile by linear interpolation between closest ranks (p in 0..100). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export const median = (values: number[]) => percentile(values, 50);
export const mean = (values: number[]) =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` for each item with at most `limit` running at once; results keep the order. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run generates the same data. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | null = null;
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    /** Standard normal (Box-Muller). */
    gauss() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = next();
      const r = Math.sqrt(-2 * Math.log(u));
      const theta = 2 * Math.PI * next();
      spare = r * Math.sin(theta);
      return r * Math.cos(theta);
    },
  };
}

/** Word-like tokens from a fixed syllable set: "kalo", "meruti", ... (index -> word). */
export function word(i: number): string {
  const syllables = [
    "ka",
    "lo",
    "me",
    "ru",
    "ti",
    "sa",
    "no",
    "vi",
    "de",
    "po",
    "la",
    "mi",
    "tu",
    "ne",
    "ro",
    "fa",
    "gi",
    "bo",
    "ze",
    "ku",
  ];
  let s = "";
  let n = i + 20; // at least two syllables
  while (n > 0) {
    s += syllables[n % syllables.length];
    n = Math.floor(n / syllables.length);
  }
  return s;
}

/** Some text of `n` words, for fake replies and documents. */
export function words(n: number, seed = 1): string {
  const r = rng(seed);
  return Array.from({ length: n }, () => word(r.int(2000))).join(" ");
}

// --- Results --------------------------------------------------------------------------------------

export interface Result {
  scenario: string;
  metric: string;
  value: number | null;
  unit: string;
  /** The same figure for the baseline (direct provider, guide's function, embedder alone). */
  baseline: number | null;
  /** value / baseline, or for "added" figures Aide's total over the baseline's total. */
  ratio: number | null;
  /** e.g. "<= 15" (in `unit`); null when the figure has no target. */
  target: string | null;
  pass: boolean | null;
}

const round = (x: number | null, digits = 2) =>
  x === null || !Number.isFinite(x) ? null : Number(x.toFixed(digits));

/** A result row; `pass` is computed from `target` ("<= x" or ">= x"). */
export function result(
  scenario: string,
  metric: string,
  value: number | null,
  unit: string,
  opts: { baseline?: number | null; ratio?: number | null; target?: string } = {},
): Result {
  const baseline = opts.baseline ?? null;
  const ratio = opts.ratio !== undefined
    ? opts.ratio
    : value !== null && baseline !== null && baseline !== 0
    ? value / baseline
    : null;
  let pass: boolean | null = null;
  if (opts.target) {
    const m = opts.target.match(/^(<=|>=)\s*(-?[\d.]+)$/);
    if (!m) throw new Error(`bad target ${opts.target}`);
    const limit = Number(m[2]);
    pass = value !== null && Number.isFinite(value) &&
      (m[1] === "<=" ? value <= limit : value >= limit);
  }
  return {
    scenario,
    metric,
    value: round(value, unit === "ratio" || unit === "recall" ? 3 : 2),
    unit,
    baseline: round(baseline, unit === "ratio" || unit === "recall" ? 3 : 2),
    ratio: round(ratio, 3),
    target: opts.target ?? null,
    pass,
  };
}

/** Writes latest.json and latest.md; rows of scenarios not run this time are kept. */
export async function writeResults(
  rows: Result[],
  ran: string[],
  notes: { scenario: string; text: string }[],
  meta: Record<string, string>,
) {
  await Deno.mkdir(RESULTS_DIR, { recursive: true });
  let previous: Result[] = [];
  try {
    previous = JSON.parse(await Deno.readTextFile(join(RESULTS_DIR, "latest.json")));
  } catch { /* first run */ }
  const kept = previous.filter((r) => !ran.includes(r.scenario));
  const all = [...kept, ...rows];
  const order = [
    "chat",
    "overhead",
    "throughput",
    "concurrency",
    "scale",
    "ingestion",
    "search",
    "search-300k",
    "reminders",
  ];
  all.sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario));
  await Deno.writeTextFile(join(RESULTS_DIR, "latest.json"), JSON.stringify(all, null, 2) + "\n");

  const fmt = (x: number | null) => (x === null ? "" : String(x));
  const lines = [
    "<!-- Generated by `npm run bench`; do not edit by hand. -->",
    "",
    ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`),
    ...(kept.length
      ? [`- kept from an earlier run: ${[...new Set(kept.map((r) => r.scenario))].join(", ")}`]
      : []),
    "",
    "| scenario | metric | value | unit | baseline | ratio | target | pass |",
    "| --- | --- | ---: | --- | ---: | ---: | --- | --- |",
    ...all.map((r) =>
      `| ${r.scenario} | ${r.metric} | ${fmt(r.value)} | ${r.unit} | ${fmt(r.baseline)} | ${
        fmt(r.ratio)
      } | ${r.target ?? ""} | ${r.pass === null ? "" : r.pass ? "pass" : "**MISS**"} |`
    ),
    "",
  ];
  if (notes.length) {
    lines.push("Notes from this run:", "");
    for (const n of notes) lines.push(`- ${n.scenario}: ${n.text}`);
    lines.push("");
  }
  await Deno.writeTextFile(join(RESULTS_DIR, "latest.md"), lines.join("\n"));
}

// --- What Postgres sees from the functions process ------------------------------------------------

/** Local ports of a process's open TCP connections to the stack's Postgres (the chat worker's by default). */
export function functionsDbPorts(b: Bench, pid = b.functionsPid): Set<number> {
  const inodes = new Set<string>();
  for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const m = Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`).match(/^socket:\[(\d+)\]$/);
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const ports = new Set<number>();
  for (const file of ["tcp", "tcp6"]) {
    let table = "";
    try {
      table = Deno.readTextFileSync(`/proc/${pid}/net/${file}`);
    } catch {
      continue;
    }
    for (const line of table.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "01") continue; // 01 = ESTABLISHED
      const local = parseInt(f[1].split(":")[1], 16);
      const remote = parseInt(f[2].split(":")[1], 16);
      if (remote === b.cfg.ports.db && inodes.has(f[9])) ports.add(local);
    }
  }
  return ports;
}

export interface LoggedStatement {
  /** Wall-clock time (Date.now() scale) Postgres logged it at. */
  at: number;
  /** Client port of the connection that sent it. */
  port: number;
  text: string;
}

/**
 * Turns on Postgres's statement log (`log_statement = 'all'`, with time and client port in
 * each line) for the bench stack until `stop()`, which turns it off again and returns what was
 * logged meanwhile. `postgres.log` of the stack is where the lines go (stderr of the server).
 */
export async function statementLog(b: Bench) {
  const file = `${b.cfg.dir}/logs/postgres.log`;
  const from = (await Deno.stat(file)).size;
  await b.sql`alter system set log_statement = 'all'`;
  await b.sql`alter system set log_line_prefix = '%m|%r|'`;
  await b.sql`select pg_reload_conf()`;
  await sleep(300); // backends apply the reload before their next command
  return {
    async stop(): Promise<LoggedStatement[]> {
      await b.sql`alter system reset log_statement`;
      await b.sql`alter system reset log_line_prefix`;
      await b.sql`select pg_reload_conf()`;
      const bytes = await Deno.readFile(file);
      const text = new TextDecoder().decode(bytes.subarray(from));
      const out: LoggedStatement[] = [];
      const re =
        /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC\|[^(|]*\((\d+)\)\|LOG:\s+(statement|execute [^:]*): (.*)$/;
      let last: LoggedStatement | null = null;
      for (const line of text.split("\n")) {
        const m = line.match(re);
        if (m) {
          last = { at: Date.parse(m[1].replace(" ", "T") + "Z"), port: Number(m[2]), text: m[4] };
          out.push(last);
        } else if (last && line.startsWith("\t")) {
          last.text += " " + line.trim(); // the statement's next lines
        } else last = null;
      }
      return out;
    },
  };
}
