// Where the functions' CPU goes in one chat send: the conversations app runs in this process
// (as its worker would: same code, same environment, read from the running worker), sends go
// through app.fetch one at a time, and V8's CPU profile of them is summed by function and by
// package. Used for docs/BENCHMARKS.md "Profile"; not part of `npm run bench`.
//
//   node_modules/.bin/deno run -A bench/profile_send.ts --stack test   # a running stack
//
// The parent copies the worker's environment and starts a child with --cpu-prof; the child
// prints the CPU time per send until the first token (process.cpuUsage) and the parent prints
// the profile's top entries.
import { join } from "node:path";
import process from "node:process";
import { BIN, ROOT, stackConfig } from "../local/config.ts";

const SENDS = 200;
const WARMUP = 30;
const args = [...Deno.args];
const stack = args[args.indexOf("--stack") + 1] ?? "test";
const cfg = stackConfig(stack);

const workerEnv = () => {
  const pid = Deno.readTextFileSync(join(cfg.dir, "run", "conversations.pid")).trim();
  return Object.fromEntries(
    Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0").filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
};

/** The profile's user (no rate limit or budget in the way), a token and a conversation per send. */
async function sender(dbUrl: string) {
  const { issueUserToken } = await import("../local/token.ts");
  const postgres = (await import("postgres")).default;
  const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
  const { userId, token } = await issueUserToken(cfg, "profile-send@example.com", { sql });
  await sql`update public.profiles set rate_limits = '{"chat": {"requests": 100000}}',
            monthly_budget_usd = 100000 where id = ${userId}`;
  const conversations = await sql<{ id: string }[]>`
    insert into public.conversations (user_id, title, model)
    select ${userId}, 'profile ' || i, 'claude-sonnet-4.6' from generate_series(1, ${SENDS}) i
    returning id`;
  return { sql, token, conversations };
}

if (args.includes("--worker")) {
  // A second conversations worker (local/functions/worker.ts, as the stack runs it) on a socket
  // of its own, profiled; its CPU from /proc per send, as the overhead bench reads it.
  const dir = await Deno.makeTempDir({ prefix: "aide-profile-" });
  const socket = join(dir, "worker.sock");
  const worker = new Deno.Command(BIN.deno, {
    args: [
      "run",
      "-A",
      "--cpu-prof",
      `--cpu-prof-dir=${dir}`,
      "--v8-flags=--max-old-space-size=256",
      join(ROOT, "local/functions/worker.ts"),
      join(ROOT, "supabase/functions"),
      "conversations",
      socket,
    ],
    env: workerEnv(),
    clearEnv: true,
    stdin: "piped",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  while (!(await Deno.stat(socket).then(() => true, () => false))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
  const { sql, token, conversations: ids } = await sender(workerEnv().SUPABASE_DB_URL);
  const { cpuTimeMs } = await import("./lib.ts");
  const cpu: number[] = [];
  for (let i = 0; i < SENDS; i++) {
    const before = cpuTimeMs(worker.pid);
    const res = await fetch(`http://function/conversations/${ids[i].id}/messages`, {
      client,
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ content: "Profile question" }),
    });
    const reader = res.body!.getReader();
    let at = NaN;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (Number.isNaN(at) && new TextDecoder().decode(value).includes('"text-delta"')) {
        at = cpuTimeMs(worker.pid);
      }
    }
    if (i >= WARMUP) cpu.push(at - before);
    await new Promise((r) => setTimeout(r, 20)); // the reply's last writes
  }
  console.log(
    `worker CPU (/proc, 10 ms ticks) until the first token, ${cpu.length} sends: mean ${
      (cpu.reduce((a, b) => a + b, 0) / cpu.length).toFixed(2)
    } ms`,
  );
  await sql.end();
  await worker.stdin.close();
  await worker.status;
  const file = [...Deno.readDirSync(dir)].find((f) => f.name.endsWith(".cpuprofile"))!;
  report(JSON.parse(Deno.readTextFileSync(join(dir, file.name))), null);
  console.log(`profile: ${join(dir, file.name)}`);
  Deno.exit(0);
}

if (!args.includes("--child")) {
  const env = workerEnv();
  const dir = await Deno.makeTempDir({ prefix: "aide-profile-" });
  const child = await new Deno.Command(BIN.deno, {
    args: [
      "run",
      "-A",
      "--cpu-prof",
      `--cpu-prof-dir=${dir}`,
      import.meta.filename!,
      ...args,
      "--child",
    ],
    env: { ...env, AIDE_PROFILE_DIR: dir },
    clearEnv: true,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!child.success) Deno.exit(1);
  const file = [...Deno.readDirSync(dir)].find((f) => f.name.endsWith(".cpuprofile"))!;
  report(
    JSON.parse(Deno.readTextFileSync(join(dir, file.name))),
    JSON.parse(Deno.readTextFileSync(join(dir, "windows.json"))),
  );
  console.log(`profile: ${join(dir, file.name)} (open in Chrome DevTools)`);
  Deno.exit(0);
}

// --- the child: the app in this process ----------------------------------------------------
Object.assign(globalThis, { EdgeRuntime: { waitUntil: (p: Promise<unknown>) => p } });
const { app } = await import(join(ROOT, "supabase/functions/conversations/app.ts"));
const { sql, token, conversations } = await sender(Deno.env.get("SUPABASE_DB_URL")!);

const cpuSince = (before: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};

/**
 * CPU ms of this process from the request until the response (auth, validation, the send's
 * statement) and until the first text chunk (the provider call); the rest is read too.
 */
async function send(conversationId: string): Promise<{ headers: number; first: number }> {
  const before = process.cpuUsage();
  const from = performance.now();
  const res: Response = await app.fetch(
    new Request(`http://local/conversations/${conversationId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ content: "Profile question" }),
    }),
  );
  const headers = cpuSince(before);
  const reader = res.body!.getReader();
  let cpu = NaN;
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (Number.isNaN(cpu) && decoder.decode(value).includes('"text-delta"')) {
      cpu = cpuSince(before);
      windows.push([from, performance.now()]);
    }
  }
  return { headers, first: cpu };
}

/**
 * The profile's clock is not performance.now()'s: a busy loop in a function of its own marks
 * a known moment, and the parent lines the two clocks up with it.
 */
function clockMark(): number {
  const at = performance.now();
  while (performance.now() - at < 30) { /* busy */ }
  return at;
}
let windows: [number, number][] = [];
const runs: { headers: number; first: number }[] = [];
for (let i = 0; i < SENDS; i++) {
  if (i === WARMUP) windows = [];
  const run = await send(conversations[i].id);
  if (i >= WARMUP) runs.push(run);
}
Deno.writeTextFileSync(
  join(Deno.env.get("AIDE_PROFILE_DIR")!, "windows.json"),
  JSON.stringify({ mark: clockMark(), windows }),
);
await new Promise((r) => setTimeout(r, 500)); // background finishes
const summary = (xs: number[]) => {
  xs.sort((a, b) => a - b);
  return `mean ${(xs.reduce((s, x) => s + x, 0) / xs.length).toFixed(2)} ms, p50 ${
    xs[Math.floor(xs.length / 2)].toFixed(2)
  } ms`;
};
console.log(
  `CPU per send (${runs.length} sends; includes this driver's reading): until the response ` +
    `${summary(runs.map((r) => r.headers))}; until the first token ${
      summary(runs.map((r) => r.first))
    }`,
);
await sql.end();
Deno.exit(0);

// --- the parent: the profile, summed -------------------------------------------------------
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
function report(
  profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number },
  marks: { mark: number; windows: [number, number][] } | null,
) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Sample times (µs, the profile's clock); the first sample in clockMark is marks.mark.
  const times: number[] = [];
  profile.timeDeltas.reduce((t, d) => (times.push(t + d), t + d), profile.startTime);
  const markNode = profile.nodes.find((n) => n.callFrame.functionName === "clockMark");
  const markAt = times[profile.samples.findIndex((id) => id === markNode?.id)];
  const offset = marks ? markAt / 1000 - marks.mark : 0;
  const inWindow = (us: number) => {
    const ms = us / 1000 - offset;
    return !marks || marks.windows.some(([from, to]) => ms >= from && ms <= to);
  };
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (inWindow(times[i])) self.set(id, (self.get(id) ?? 0) + profile.timeDeltas[i]);
  });
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === "(idle)" || functionName === "(program)") continue;
    total += us;
    const where = url.replace(/^.*node_modules\/\.deno\//, "npm:").replace(`file://${ROOT}`, "");
    const pkg = where.startsWith("npm:")
      ? where.split("/")[0].replace(/@\d[^/]*$/, "")
      : where.startsWith("/supabase")
      ? "aide"
      : where.startsWith("ext:")
      ? "deno runtime"
      : where || "(native)";
    byFunction.set(
      `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`,
      (byFunction.get(`${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`) ?? 0) + us,
    );
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
      .map(([k, us]) => `  ${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`).join("\n");
  console.log(
    `self time by package, ${
      marks ? `from each request to its first token (${marks.windows.length} windows)` : "all"
    } (${(total / 1000).toFixed(0)} ms sampled):\n${top(byPackage, 15)}`,
  );
  console.log(`self time by function:\n${top(byFunction, 30)}`);
}
