// The stack's own Postgres cluster, run as the `postgres` OS user when we are root (Postgres
// refuses to run as root). setpriv execs in place, so the child we supervise and signal is
// Postgres itself, not a wrapper that might not forward signals.
import { createHash } from "node:crypto";
import { join } from "node:path";
import postgres from "postgres";
import { BIN, dbUrl, ROOT, type StackConfig } from "./config.ts";
import { type Child, run, spawnLogged, waitFor } from "./process.ts";

const isRoot = Deno.uid() === 0;
const asPostgres = (cmd: string, args: string[]) =>
  isRoot
    ? ["setpriv", [
      "--reuid=postgres",
      "--regid=postgres",
      "--init-groups",
      "--",
      cmd,
      ...args,
    ]] as const
    : [cmd, args] as const;

/**
 * Where the cluster's files live. Run as ourselves, in .local/<stack>/pgdata. Run as root, the
 * `postgres` user must be able to enter every folder above the data, which a checkout inside a
 * private home (/root, mode 700) does not allow; so root's clusters live under /var/lib/aide,
 * one folder per stack folder (a hash of its path), with a `checkout` file naming the stack
 * folder it belongs to and a `pgdata` link in the stack folder pointing at it.
 */
export function dataDir(cfg: StackConfig): string {
  if (!isRoot) return join(cfg.dir, "pgdata");
  const key = createHash("sha256").update(cfg.dir).digest("hex").slice(0, 16);
  return join(CLUSTERS_DIR, `${cfg.name}-${key}`, "pgdata");
}
const CLUSTERS_DIR = "/var/lib/aide/clusters";

function linked(cfg: StackConfig) {
  try {
    return Deno.readLinkSync(join(cfg.dir, "pgdata")) === dataDir(cfg);
  } catch {
    return false;
  }
}

/** Deletes the cluster's files (the stack must be stopped): what --fresh starts from. */
export async function removeCluster(cfg: StackConfig) {
  await Deno.remove(join(dataDir(cfg), ".."), { recursive: true }).catch(() => {});
  await Deno.remove(join(cfg.dir, "pgdata"), { recursive: true }).catch(() => {});
}

/** Creates the cluster if it does not exist yet; returns true when it was created. */
export async function ensureCluster(cfg: StackConfig): Promise<boolean> {
  const pgdata = dataDir(cfg);
  // A cluster whose stack folder was deleted (rm -rf .local) goes with it, as it would in .local.
  if (isRoot && !linked(cfg)) await removeCluster(cfg);
  try {
    Deno.statSync(join(pgdata, "PG_VERSION"));
    return false;
  } catch { /* not created yet */ }
  Deno.mkdirSync(pgdata, { recursive: true });
  if (isRoot) {
    await run("chown", ["postgres:postgres", pgdata]);
    Deno.writeTextFileSync(join(pgdata, "..", "checkout"), cfg.dir + "\n");
    Deno.mkdirSync(cfg.dir, { recursive: true });
    await Deno.remove(join(cfg.dir, "pgdata"), { recursive: true }).catch(() => {});
    Deno.symlinkSync(pgdata, join(cfg.dir, "pgdata"));
  }
  const [cmd, args] = asPostgres(join(BIN.pg, "initdb"), [
    "-D",
    pgdata,
    "-U",
    "postgres",
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C.UTF-8",
  ]);
  await run(cmd, [...args]);
  const settings = [
    `port = ${cfg.ports.db}`,
    "listen_addresses = '127.0.0.1'",
    "unix_socket_directories = ''",
    "shared_preload_libraries = 'pg_cron'",
    "cron.database_name = 'postgres'",
    "cron.use_background_workers = on",
    "max_worker_processes = 32",
    "max_connections = 200",
    "shared_buffers = '512MB'",
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    "log_min_messages = warning",
    "jit = off", // local/install.sh leaves out LLVM, which JIT needs
    // Test and bench stacks are thrown away; skipping fsync makes them several times faster.
    ...(cfg.durable ? [] : ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]),
  ];
  await Deno.writeTextFile(
    join(pgdata, "postgresql.conf"),
    `\n# Aide local stack\n${settings.join("\n")}\n`,
    { append: true },
  );
  return true;
}

export function startPostgres(cfg: StackConfig, logDir: string): Child {
  const [cmd, args] = asPostgres(join(BIN.pg, "postgres"), ["-D", dataDir(cfg)]);
  return spawnLogged("postgres", cmd, [...args], { logDir, cwd: "/" });
}

export function waitForPostgres(cfg: StackConfig) {
  return waitFor("Postgres", async () => {
    const out = await new Deno.Command(join(BIN.pg, "pg_isready"), {
      args: ["-h", "127.0.0.1", "-p", String(cfg.ports.db), "-U", "postgres"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  });
}

export function psqlFile(cfg: StackConfig, file: string) {
  return run(join(BIN.pg, "psql"), [
    dbUrl(cfg),
    "--quiet",
    "--no-psqlrc",
    "-v",
    "ON_ERROR_STOP=1",
    "-f",
    file,
  ], { cwd: ROOT, env: { PGOPTIONS: "--client-min-messages=warning" } });
}

/** Applies supabase/migrations with the real Supabase CLI, as `supabase db push` would. */
export function migrate(cfg: StackConfig) {
  return run(BIN.supabase, ["migration", "up", "--yes", "--db-url", dbUrl(cfg)], {
    cwd: ROOT,
    env: { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
  });
}

/**
 * The Vault secrets Aide's migrations and functions read (on a hosted project you create them
 * once, see README "Deploying"): where the functions are, and the webhook secrets.
 */
export async function configureVault(cfg: StackConfig, functionsUrl: string) {
  const sql = postgres(dbUrl(cfg), { max: 1, onnotice: () => {} });
  const random = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0"))
      .join("");
  try {
    const secrets: Record<string, string> = {
      aide_functions_url: functionsUrl,
      aide_webhook_secret: random(),
      aide_transcript_webhook_secret: random(),
    };
    for (const [name, value] of Object.entries(secrets)) {
      await sql`select vault.create_secret(${value}, ${name})
                where not exists (select 1 from vault.secrets where name = ${name})`;
    }
    // The URL follows the stack's port; the secrets stay as they were first made.
    await sql`update vault.secrets set secret = ${functionsUrl} where name = 'aide_functions_url'`;
  } finally {
    await sql.end();
  }
}
