// A checkout inside a private folder (/root/aide, mode 700: root's default home) must still run
// the stack: Postgres runs as the `postgres` OS user, who cannot enter such a folder, so the
// cluster lives where that user can reach it, keyed by the stack folder. This drives the real
// cluster code (local/postgres.ts) for a stack folder inside a fresh mode-700 folder.
import assert from "node:assert/strict";
import { join } from "node:path";
import postgres from "postgres";
import { dbUrl, stackConfig } from "../../local/config.ts";
import {
  dataDir,
  ensureCluster,
  removeCluster,
  startPostgres,
  waitForPostgres,
} from "../../local/postgres.ts";
import { stopChild } from "../../local/process.ts";

Deno.test("the stack's Postgres starts from a checkout inside a mode-700 folder", async () => {
  const home = Deno.makeTempDirSync({ prefix: "aide-private-" });
  Deno.chmodSync(home, 0o700);
  const base = stackConfig(Deno.env.get("AIDE_STACK") ?? "test");
  // A port in this stack's own range that none of its services uses.
  const cfg = {
    ...base,
    name: "private",
    dir: join(home, "aide", ".local", "private"),
    ports: { ...base.ports, db: base.ports.api + 29 },
  };
  const logs = join(cfg.dir, "logs");
  Deno.mkdirSync(logs, { recursive: true });
  const created = await ensureCluster(cfg);
  assert.equal(created, true);
  const pg = startPostgres(cfg, logs);
  const sql = postgres(dbUrl(cfg), { max: 1, onnotice: () => {} });
  try {
    await waitForPostgres(cfg);
    const [{ data_directory }] =
      await sql`select current_setting('data_directory') as data_directory`;
    assert.equal(data_directory, dataDir(cfg));
    // The stack folder still shows where its data is.
    assert.equal(Deno.realPathSync(join(cfg.dir, "pgdata")), dataDir(cfg));
    assert.equal(await ensureCluster(cfg), false, "a second start reuses the cluster");
  } finally {
    await sql.end();
    await stopChild(pg, "SIGINT");
    await removeCluster(cfg);
    Deno.removeSync(home, { recursive: true });
  }
  assert.throws(() => Deno.statSync(dataDir(cfg)), Deno.errors.NotFound);
});
