// Edge functions run isolated and under Supabase's limits (local/functions/pool.ts), checked with
// the fixtures of tests/functions (served by test stacks only): each function is its own process
// with its own module state; over 256 MB of memory or 2 s of CPU a function is stopped with 546
// WORKER_LIMIT; past the wall clock, 504 and its background work stops; a crash is 500
// WORKER_ERROR; each time the function comes back and the others never notice.
import assert from "node:assert/strict";
import { join } from "node:path";
import { call, cfg, FUNCTIONS_URL, newUser, until } from "../_support/stack.ts";

const { token } = await newUser("limits");
const probe = (fn: string, path: string) => call(`${FUNCTIONS_URL}/${fn}/${path}`, { token });
const pidOf = (fn: string) => Number(Deno.readTextFileSync(join(cfg.dir, "run", `${fn}.pid`)));
const functionLog = () => Deno.readTextFileSync(join(cfg.dir, "logs", "functions.log"));

/** After a limit stops it, the function answers again from a fresh process. */
async function backAgain(fn: string, before: number) {
  const res = await until(`${fn} to come back`, async () => {
    const r = await probe(fn, "state");
    return r.status === 200 && r.body.pid !== before ? r : null;
  }, 30_000);
  assert.equal(res.body.requests, 1, "a fresh process starts with fresh module state");
}

Deno.test("functions: each runs in its own process with its own module state", async () => {
  const a1 = await probe("limits-probe", "state");
  const a2 = await probe("limits-probe", "state");
  const b = await probe("short-wall-clock", "state");
  assert.equal(a2.body.requests, a1.body.requests + 1);
  assert.equal(a1.body.pid, a2.body.pid);
  assert.notEqual(b.body.pid, a1.body.pid, "two functions share no process");
  assert.equal(a1.body.pid, pidOf("limits-probe"));
});

Deno.test("functions: over 256 MB of memory the function is stopped with 546 WORKER_LIMIT", async () => {
  const healthPid = pidOf("health");
  const before = pidOf("limits-probe");
  const res = await probe("limits-probe", "alloc?mb=400");
  assert.equal(res.status, 546);
  assert.deepEqual(res.body, {
    code: "WORKER_LIMIT",
    message: "Function failed due to not having enough compute resources (please check logs)",
  });
  await backAgain("limits-probe", before);
  assert.equal(pidOf("health"), healthPid, "other functions keep running");
  const small = await probe("limits-probe", "alloc?mb=20");
  assert.equal(small.status, 200, "well under the limit is fine");
});

Deno.test("functions: over 2 s of CPU time in one request the function is stopped with 546", async () => {
  const before = pidOf("limits-probe");
  const ok = await probe("limits-probe", "spin?ms=300");
  assert.equal(ok.status, 200);
  const res = await probe("limits-probe", "spin?ms=5000");
  assert.equal(res.status, 546);
  assert.equal(res.body.code, "WORKER_LIMIT");
  await backAgain("limits-probe", before);
  assert.match(
    functionLog() + Deno.readTextFileSync(join(cfg.dir, "logs", "gateway.log")),
    /"reason":"cpu"/,
  );
});

Deno.test("functions: a request is charged only its share of the CPU, not its neighbours'", async () => {
  const before = pidOf("limits-probe");
  // A long idle request stays in flight while others use 2.4 s of CPU between them.
  const idle = probe("limits-probe", "sleep?ms=20000");
  for (let i = 0; i < 3; i++) {
    const busy = await probe("limits-probe", "spin?ms=800");
    assert.equal(busy.status, 200);
  }
  assert.equal((await idle).status, 200);
  assert.equal(pidOf("limits-probe"), before, "nothing was stopped");
});

Deno.test("functions: past the wall clock a request gets 504 and background work is stopped", async () => {
  const before = pidOf("short-wall-clock"); // its wall clock is 4 s (tests/functions/limits.json)
  const quick = await probe("short-wall-clock", "sleep?ms=100");
  assert.equal(quick.status, 200);
  const res = await probe("short-wall-clock", "sleep?ms=8000");
  assert.equal(res.status, 504);
  await backAgain("short-wall-clock", before);

  // waitUntil work may outlive the response, but not the wall clock: it is logged while it
  // runs, and the worker is stopped with it at the limit.
  const pid = pidOf("short-wall-clock");
  const bg = await probe("short-wall-clock", "background?ms=8000");
  assert.equal(bg.status, 200);
  await until("the background task to be stopped", () =>
    Promise.resolve(
      functionLog().split("\n").some((l) =>
        l.includes("wall clock limit reached") && l.includes("short-wall-clock")
      ),
    ), 20_000);
  assert.ok(functionLog().includes("background tasks outlive the response"));
  await backAgain("short-wall-clock", pid);
});

Deno.test("functions: a function that crashes answers 500 WORKER_ERROR and restarts", async () => {
  const before = pidOf("limits-probe");
  const res = await probe("limits-probe", "crash");
  assert.equal(res.status, 500);
  assert.equal(res.body.code, "WORKER_ERROR");
  await backAgain("limits-probe", before);
  const health = await call(`${FUNCTIONS_URL}/health`, { token });
  assert.equal(health.status, 200);
});
