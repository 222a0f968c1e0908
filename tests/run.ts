// `npm test`: starts a fresh, throwaway local stack ("test": its own folder and ports), runs
// every test against it (Deno tests under tests/, pgTAP tests under tests/db/ with pg_prove,
// then tests/security/secrets_test.ts, which scans what all of them made the stack log), stops
// the stack, and ends with a line of its own: `N passed, K failed`.
//
// Extra arguments go to `deno test`, e.g. `npm test -- --filter pg_net`. AIDE_STACK=test2 (or
// test3, test4) runs on another throwaway stack, to run two suites on one machine at once.
import { join } from "node:path";
import { BIN, dbUrl, ROOT, stackConfig } from "../local/config.ts";
import { throwawayStack } from "../local/stack.ts";

const cfg = stackConfig(Deno.env.get("AIDE_STACK") ?? "test");
const stack = throwawayStack(cfg);

/** Runs a command with its output shown as it comes and also returned. */
async function tee(command: string, args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(command, {
    args,
    env,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  let output = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      await sink.write(chunk);
    }
  };
  await Promise.all([pump(child.stdout, Deno.stdout), pump(child.stderr, Deno.stderr)]);
  return { output, success: (await child.status).success };
}

interface Count {
  passed: number;
  failed: number;
}

/** Scans everything the stack logged for secrets, so it runs after every other test. */
const LAST = "tests/security/secrets_test.ts";
/** Kills the stack's processes (a function, the gateway), so it runs alone, after the others. */
const ALONE = "tests/stack/restart_test.ts";

async function denoTests(args: string[]): Promise<Count> {
  const { output, success } = await tee(BIN.deno, ["test", "-A", ...args], {
    AIDE_STACK: cfg.name,
    DENO_JOBS: "4",
  });
  // Deno's summary line: "ok | 12 passed (3 steps) | 0 failed (4s)".
  const summary = [...output.matchAll(/(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/g)].at(-1);
  if (!summary) return { passed: 0, failed: 1 }; // it did not get as far as running tests
  const count = { passed: Number(summary[1]), failed: Number(summary[2]) };
  if (!success && count.failed === 0) count.failed = 1;
  return count;
}

async function pgTapTests(): Promise<Count> {
  const files = [...Deno.readDirSync(join(ROOT, "tests/db"))]
    .filter((f) => f.name.endsWith(".sql")).map((f) => join("tests/db", f.name)).sort();
  if (files.length === 0) return { passed: 0, failed: 0 };
  await tee(join(BIN.pg, "psql"), [
    dbUrl(cfg),
    "-qc",
    "create extension if not exists pgtap with schema extensions",
  ]);
  const { output, success } = await tee("pg_prove", [
    "--psql-bin",
    join(BIN.pg, "psql"),
    "--dbname",
    "postgres",
    "--host",
    "127.0.0.1",
    "--port",
    String(cfg.ports.db),
    "--username",
    "postgres",
    "--verbose",
    ...files,
  ]);
  // With --verbose pg_prove echoes every TAP line: count "ok N" and "not ok N".
  const failed = output.match(/^\s*not ok \d+/gm)?.length ?? 0;
  const passed = output.match(/^\s*ok \d+/gm)?.length ?? 0;
  return { passed, failed: failed === 0 && !success ? 1 : failed };
}

// Chromium and the SDK's and web app's npm packages (for tests/client and tests/browser).
const installed = await new Deno.Command("bash", { args: ["scripts/install-web.sh"], cwd: ROOT })
  .spawn().status;
if (!installed.success) throw new Error("scripts/install-web.sh failed");

let total: Count = { passed: 0, failed: 0 };
const started = await stack.start();
if (!started) {
  total.failed = 1;
  console.error("the test stack did not start; see .local/test/logs/");
} else {
  try {
    const deno = await denoTests([
      "--parallel",
      `--ignore=${LAST},${ALONE}`,
      ...Deno.args,
      "tests/",
    ]);
    const alone = await denoTests([...Deno.args, ALONE]);
    const db = await pgTapTests();
    const last = await denoTests([...Deno.args, LAST]);
    total = {
      passed: deno.passed + alone.passed + db.passed + last.passed,
      failed: deno.failed + alone.failed + db.failed + last.failed,
    };
  } finally {
    await stack.stop();
  }
}
console.log(`\n${total.passed} passed, ${total.failed} failed`);
Deno.exit(total.failed > 0 || total.passed === 0 ? 1 : 0);
