// The Docker-free local Supabase stack: what `supabase start` + `supabase functions serve`
// provide, built from Debian's Postgres, the PostgREST binary and Deno.
//
//   deno run -A local/stack.ts start [--stack dev|test|bench] [--detach] [--fresh]
//   deno run -A local/stack.ts stop  [--stack dev|test|bench]
//
// `start` runs the stack in the foreground (Ctrl-C stops it); with --detach it starts it in
// the background and returns once it is ready. Either way, once the stack is ready its URLs
// and keys are in .local/<stack>/stack.env.
import { join } from "node:path";
import { BIN, dbUrl, readEnvFile, ROOT, type StackConfig, stackConfig } from "./config.ts";
import { apiKey, generateSigningKeys, jwks, type SigningKeys } from "./jwt.ts";
import { type Child, spawnLogged, stopChild, waitFor } from "./process.ts";
import {
  configureVault,
  ensureCluster,
  migrate,
  psqlFile,
  removeCluster,
  startPostgres,
  waitForPostgres,
} from "./postgres.ts";
import { reminderEnv } from "./reminders_env.ts";
import { startRelay } from "./relay.ts";
import { platformSetup } from "./fakes/platforms.ts";
import { issueUserToken } from "./token.ts";

const log = (msg: string) => console.error(`[stack] ${msg}`);
const paths = (cfg: StackConfig) => ({
  env: join(cfg.dir, "stack.env"),
  pid: join(cfg.dir, "stack.pid"),
  keys: join(cfg.dir, "keys.json"),
  jwks: join(cfg.dir, "jwks.json"),
  logs: join(cfg.dir, "logs"),
});

function exists(path: string) {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const isAlive = (pid: number) => exists(`/proc/${pid}`);

/** Deletes everything the stack keeps (its folder and its cluster): what --fresh starts from. */
async function removeStack(cfg: StackConfig) {
  await removeCluster(cfg);
  await Deno.remove(cfg.dir, { recursive: true }).catch(() => {});
}

function runningPid(cfg: StackConfig): number | null {
  try {
    const pid = Number(Deno.readTextFileSync(paths(cfg).pid));
    return pid && isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

async function loadOrCreateKeys(cfg: StackConfig): Promise<SigningKeys> {
  const p = paths(cfg);
  try {
    return JSON.parse(Deno.readTextFileSync(p.keys));
  } catch {
    const keys = await generateSigningKeys();
    Deno.writeTextFileSync(p.keys, JSON.stringify(keys), { mode: 0o600 });
    return keys;
  }
}

/**
 * Provider settings for the functions: on the dev stack, real keys from the environment or
 * supabase/functions/.env when present; otherwise (and always on the test and bench stacks,
 * which must never spend real money) the fake servers of local/fakes.
 */
function providerEnv(cfg: StackConfig, secrets: Record<string, string>) {
  const real = (name: string) => cfg.name === "dev" && !!(Deno.env.get(name) || secrets[name]);
  const fake = { openai: !real("OPENAI_API_KEY"), anthropic: !real("ANTHROPIC_API_KEY") };
  const env: Record<string, string> = {};
  for (
    const name of ["OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"]
  ) {
    const value = Deno.env.get(name) ?? secrets[name];
    if (value) env[name] = value;
  }
  if (fake.openai) {
    env.OPENAI_API_KEY = "fake-openai-key";
    env.OPENAI_BASE_URL = `http://127.0.0.1:${cfg.ports.openai}/v1`;
  }
  if (fake.anthropic) {
    env.ANTHROPIC_API_KEY = "fake-anthropic-key";
    env.ANTHROPIC_BASE_URL = `http://127.0.0.1:${cfg.ports.anthropic}`;
  }
  env.AIDE_FAKE_PROVIDERS = [fake.openai && "openai", fake.anthropic && "anthropic"]
    .filter(Boolean).join(",");
  return { env, fake };
}

async function httpOk(url: string) {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.ok;
}

/** Runs the whole stack in this process until SIGINT/SIGTERM. */
async function supervise(cfg: StackConfig, fresh: boolean) {
  const p = paths(cfg);
  const existing = runningPid(cfg);
  if (existing && existing !== Deno.pid) {
    throw new Error(`the ${cfg.name} stack is already running (pid ${existing}); npm stop first`);
  }
  if (fresh) await removeStack(cfg);
  Deno.mkdirSync(p.logs, { recursive: true });
  Deno.writeTextFileSync(p.pid, String(Deno.pid));
  await Deno.remove(p.env).catch(() => {});

  const children: Child[] = [];
  let relay: { stop(): Promise<void> } | null = null;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log("stopping");
    await Deno.remove(p.env).catch(() => {});
    for (const child of [...children].reverse()) {
      if (child.name === "postgres") await relay?.stop().catch((e) => log(`relay: ${e}`));
      log(`stopping ${child.name}`);
      // SIGINT is Postgres's "fast" shutdown: roll back open transactions and exit.
      await stopChild(child, child.name === "postgres" ? "SIGINT" : "SIGTERM");
    }
    await Deno.remove(p.pid).catch(() => {});
    Deno.exit(code);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => shutdown(0));
  }
  /** Watches a child: its death stops the stack, unless `restart` brings it back. */
  const track = (child: Child, restart?: () => void) => {
    children.push(child);
    child.exited.then((status) => {
      if (stopping) return;
      log(
        `${child.name} exited unexpectedly (code ${status.code}); see ${p.logs}/${child.name}.log`,
      );
      if (!restart) return shutdown(1);
      children.splice(children.indexOf(child), 1);
      log(`restarting ${child.name}; Postgres and PostgREST keep running`);
      restart();
    });
    return child;
  };

  try {
    // Postgres, the Supabase image stand-in, migrations, seed.
    const created = await ensureCluster(cfg);
    track(startPostgres(cfg, p.logs));
    await waitForPostgres(cfg);
    await psqlFile(cfg, join(ROOT, "local/sql/bootstrap.sql"));
    log("applying supabase/migrations");
    await migrate(cfg);
    if (created) await psqlFile(cfg, join(ROOT, "supabase/seed.sql"));
    const apiUrl = `http://127.0.0.1:${cfg.ports.api}`;
    await configureVault(cfg, `${apiUrl}/functions/v1`);
    relay = await startRelay(dbUrl(cfg), (e) => console.log(JSON.stringify(e)));

    // Keys: one ES256 pair per stack; the API keys are JWTs signed with it.
    const keys = await loadOrCreateKeys(cfg);
    Deno.writeTextFileSync(p.jwks, JSON.stringify(jwks(keys)));
    const anonKey = await apiKey("anon", `${apiUrl}/auth/v1`, keys);
    const serviceKey = await apiKey("service_role", `${apiUrl}/auth/v1`, keys);

    // PostgREST, verifying JWTs against the same JWKS.
    const postgrestConf = join(cfg.dir, "postgrest.conf");
    Deno.writeTextFileSync(
      postgrestConf,
      [
        `db-uri = "${dbUrl(cfg, "authenticator")}"`,
        `db-schemas = "public"`,
        `db-extra-search-path = "public, extensions"`,
        `db-anon-role = "anon"`,
        `db-pool = 20`,
        `jwt-secret = "@${p.jwks}"`,
        `server-host = "127.0.0.1"`,
        `server-port = ${cfg.ports.postgrest}`,
        `admin-server-port = ${cfg.ports.postgrestAdmin}`,
        `log-level = "warn"`,
      ].join("\n") + "\n",
    );
    track(spawnLogged("postgrest", BIN.postgrest, [postgrestConf], { logDir: p.logs }));
    await waitFor("PostgREST", () => httpOk(`http://127.0.0.1:${cfg.ports.postgrestAdmin}/ready`));

    // Fake providers for whichever provider has no real key.
    const secrets = readEnvFile(join(ROOT, "supabase/functions/.env"));
    const providers = providerEnv(cfg, secrets);
    const reminders = reminderEnv(cfg, apiUrl, secrets);
    if (
      providers.fake.openai || providers.fake.anthropic || reminders.fakeTwilio ||
      reminders.fakePush
    ) {
      track(spawnLogged("fakes", BIN.deno, [
        "run",
        "-A",
        join(ROOT, "local/fakes/server.ts"),
        "--openai-port",
        String(cfg.ports.openai),
        "--anthropic-port",
        String(cfg.ports.anthropic),
        ...(reminders.fakeTwilio ? ["--twilio-port", String(cfg.ports.twilio)] : []),
        ...(reminders.fakePush ? ["--push-port", String(cfg.ports.push)] : []),
      ], { logDir: p.logs, env: reminders.env }));
      await waitFor(
        "fake providers",
        () => httpOk(`http://127.0.0.1:${cfg.ports.openai}/__fake/requests`),
      );
    }

    // Fake Slack, Microsoft and Telegram for whichever platform has no real credentials.
    const platforms = platformSetup({
      dev: cfg.name === "dev",
      dir: cfg.dir,
      ports: cfg.ports,
      configured: secrets,
    });
    if (platforms.fake.length) {
      track(spawnLogged("platform-fakes", BIN.deno, [
        "run",
        "-A",
        join(ROOT, "local/fakes/platforms.ts"),
        ...[
          "--slack-port",
          String(cfg.ports.slack),
          "--microsoft-port",
          String(cfg.ports.microsoft),
        ],
        ...["--telegram-port", String(cfg.ports.telegram)],
      ], { logDir: p.logs, env: platforms.fakeEnv }));
      await waitFor(
        "fake platforms",
        () => httpOk(`http://127.0.0.1:${cfg.ports.telegram}/__fake/requests`),
      );
    }

    // Functions behind the gateway, with the env vars Supabase gives every function. On the
    // throwaway test stacks a provider attempt times out after 10 s instead of 120 s, so the
    // tests of stalled providers finish quickly (AIDE_LLM_TIMEOUT_MS in the environment wins).
    const llmTimeout = Deno.env.get("AIDE_LLM_TIMEOUT_MS") ??
      (cfg.name.startsWith("test") ? "10000" : undefined);
    const functionEnv = {
      ...secrets,
      ...providers.env,
      ...platforms.env,
      ...reminders.env,
      ...(llmTimeout ? { AIDE_LLM_TIMEOUT_MS: llmTimeout } : {}),
      SUPABASE_URL: apiUrl,
      SUPABASE_ANON_KEY: anonKey,
      SUPABASE_SERVICE_ROLE_KEY: serviceKey,
      SUPABASE_DB_URL: dbUrl(cfg),
      AIDE_API_PORT: String(cfg.ports.api),
      AIDE_POSTGREST_URL: `http://127.0.0.1:${cfg.ports.postgrest}`,
      AIDE_JWKS_FILE: p.jwks,
      AIDE_KEYS_FILE: p.keys,
      AIDE_LOG_DIR: p.logs,
      // The dev stack reloads a function when its code changes (local/functions/pool.ts).
      ...(cfg.name === "dev" ? { AIDE_HOT_RELOAD: "1" } : {}),
      AIDE_RUN_DIR: join(cfg.dir, "run"),
      ...(Deno.env.get("AIDE_FUNCTIONS_WALL_CLOCK_SECONDS")
        ? { AIDE_FUNCTIONS_WALL_CLOCK_SECONDS: Deno.env.get("AIDE_FUNCTIONS_WALL_CLOCK_SECONDS")! }
        : {}),
      // Test stacks also serve tests/functions: fixtures that break Supabase's limits on purpose.
      ...(cfg.name.startsWith("test")
        ? { AIDE_EXTRA_FUNCTIONS_DIR: join(ROOT, "tests/functions") }
        : {}),
      ...(cfg.durable ? {} : { AIDE_AUTH_EMAIL_SENT_PER_HOUR: "100000" }),
      AIDE_STORAGE_DIR: join(cfg.dir, "storage"),
    };
    // The gateway comes back if it dies (each function's worker restarts inside it).
    const startFunctions = (): Child =>
      track(
        spawnLogged("gateway", BIN.deno, ["run", "-A", join(ROOT, "local/gateway.ts")], {
          logDir: p.logs,
          env: functionEnv,
        }),
        () => void startFunctions(),
      );
    startFunctions();
    await waitFor(
      "the functions gateway",
      () => httpOk(`${apiUrl}/auth/v1/.well-known/jwks.json`),
      60_000,
    );

    const stackEnv = {
      SUPABASE_URL: apiUrl,
      SUPABASE_ANON_KEY: anonKey,
      SUPABASE_SERVICE_ROLE_KEY: serviceKey,
      SUPABASE_DB_URL: dbUrl(cfg),
      AIDE_FAKE_PROVIDERS: providers.env.AIDE_FAKE_PROVIDERS,
      AIDE_FAKE_OPENAI_URL: providers.fake.openai ? providers.env.OPENAI_BASE_URL : "",
      AIDE_FAKE_ANTHROPIC_URL: providers.fake.anthropic ? providers.env.ANTHROPIC_BASE_URL : "",
      AIDE_LLM_TIMEOUT_MS: llmTimeout ?? "",
      // The connectors' credentials (fake or real) and the fakes' URLs, so scripts can sign requests.
      ...platforms.env,
      ...reminders.env,
      AIDE_FAKE_TWILIO_URL: reminders.fakeTwilio ?? "",
      AIDE_FAKE_PUSH_URL: reminders.fakePush ?? "",
    };
    Deno.writeTextFileSync(
      p.env,
      Object.entries(stackEnv).map(([k, v]) => `${k}=${v}`).join("\n") + "\n",
      { mode: 0o600 },
    );
    log(`ready (${cfg.name})`);
  } catch (e) {
    log(`failed to start: ${e instanceof Error ? e.message : e}`);
    await shutdown(1);
  }
}

async function printBanner(cfg: StackConfig) {
  const env = readEnvFile(paths(cfg).env);
  const { token } = await issueUserToken(cfg, "dev@example.com", { expiresIn: 24 * 3600 });
  const fakes = env.AIDE_FAKE_PROVIDERS
    ? `fake (${env.AIDE_FAKE_PROVIDERS}): no provider key set; see README "Real provider keys"`
    : "real keys from the environment / supabase/functions/.env";
  console.log(`
Aide local stack "${cfg.name}" is running.

  API URL          ${env.SUPABASE_URL}
  DB URL           ${env.SUPABASE_DB_URL}
  anon key         ${env.SUPABASE_ANON_KEY}
  service_role key ${env.SUPABASE_SERVICE_ROLE_KEY}
  Auth             ${env.SUPABASE_URL}/auth/v1 (supabase-js signs in here)
  Mail catcher     ${env.SUPABASE_URL}/auth/v1/_mail (sign-up, magic link and reset mails)
  LLM providers    ${fakes}
  Connectors       ${
    env.AIDE_FAKE_PLATFORMS
      ? `fake (${env.AIDE_FAKE_PLATFORMS}); see README "Inbox connectors"`
      : "real credentials"
  }
  logs             ${paths(cfg).logs}/

  User JWT for dev@example.com (valid 24 h; more with: npm run token -- <email>)
  ${token}

  Try it:
  curl -s ${env.SUPABASE_URL}/functions/v1/health -H "Authorization: Bearer ${token}"

The same values are in ${paths(cfg).env}.
`);
}

async function startDetached(cfg: StackConfig, fresh: boolean) {
  const p = paths(cfg);
  if (runningPid(cfg)) throw new Error(`the ${cfg.name} stack is already running; npm stop first`);
  if (fresh) await removeStack(cfg);
  Deno.mkdirSync(p.logs, { recursive: true });
  await Deno.remove(p.env).catch(() => {});
  const logFile = join(p.logs, "stack.log");
  const args = ["run", "-A", join(ROOT, "local/stack.ts"), "start", "--stack", cfg.name, "--quiet"];
  // setsid: the stack outlives this command and the terminal it was started from.
  const child = new Deno.Command("setsid", {
    args: ["-f", "sh", "-c", `exec "$0" "$@" >>"${logFile}" 2>&1 </dev/null`, BIN.deno, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  await child.status;
  // Ready when stack.env appears; failed when the supervisor has come and gone without it.
  let seen = false;
  const deadline = Date.now() + 180_000;
  try {
    while (!exists(p.env)) {
      const alive = runningPid(cfg) !== null;
      if (seen && !alive) throw new Error(`the ${cfg.name} stack failed to start`);
      if (Date.now() > deadline) throw new Error(`the ${cfg.name} stack did not start in time`);
      seen ||= alive;
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    console.error(Deno.readTextFileSync(logFile).split("\n").slice(-30).join("\n"));
    throw e;
  }
}

async function stop(cfg: StackConfig) {
  const pid = runningPid(cfg);
  if (!pid) {
    log(`the ${cfg.name} stack is not running`);
    return;
  }
  Deno.kill(pid, "SIGTERM");
  await waitFor(`the ${cfg.name} stack to stop`, () => Promise.resolve(!isAlive(pid)), 30_000);
  log(`stopped the ${cfg.name} stack`);
}

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  const flag = (name: string) => rest.includes(name);
  const stackIndex = rest.indexOf("--stack");
  const cfg = stackConfig(stackIndex >= 0 ? rest[stackIndex + 1] : "dev");
  try {
    if (command === "start" && flag("--detach")) {
      await startDetached(cfg, flag("--fresh"));
      if (!flag("--quiet")) await printBanner(cfg);
    } else if (command === "start") {
      await supervise(cfg, flag("--fresh"));
      // A detached supervisor (--quiet) writes to a log file, which must never hold keys.
      if (!flag("--quiet")) await printBanner(cfg);
    } else if (command === "stop") {
      await stop(cfg);
    } else {
      console.error("usage: stack.ts start|stop [--stack dev|test|bench] [--detach] [--fresh]");
      Deno.exit(2);
    }
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    Deno.exit(1);
  }
}

/**
 * A fresh throwaway stack for a script (npm test, npm run bench), run as its own detached
 * process so it outlives nothing but the script that stops it.
 */
export function throwawayStack(cfg: StackConfig) {
  const run = (...args: string[]) =>
    new Deno.Command(BIN.deno, {
      args: ["run", "-A", join(ROOT, "local/stack.ts"), ...args, "--stack", cfg.name],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
  return {
    /** True once it is up; a second try covers a port another program held for a moment. */
    async start() {
      const args = ["start", "--detach", "--fresh", "--quiet"];
      return (await run(...args)).success || (await run(...args)).success;
    },
    stop: () => run("stop"),
  };
}
