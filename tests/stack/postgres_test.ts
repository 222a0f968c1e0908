import assert from "node:assert/strict";
import { connect } from "../_support/stack.ts";

Deno.test("the stack runs Postgres 17, as hosted projects and config.toml's major_version do", async () => {
  const sql = connect();
  try {
    const [{ version }] = await sql`select version()`;
    assert.match(version, /^PostgreSQL 17\./);
    const [{ server_version_num }] = await sql`show server_version_num`;
    assert.equal(Math.floor(Number(server_version_num) / 10000), 17);
    const toml = Deno.readTextFileSync("supabase/config.toml");
    assert.match(toml, /^major_version\s*=\s*17\b/m);
    // The extensions the migrations and tests use are all there for this server.
    const available = (await sql`select name from pg_available_extensions`).map((r) => r.name);
    for (const name of ["vector", "pg_cron", "pgtap", "plpgsql_check", "pg_trgm", "pg_net"]) {
      assert.ok(available.includes(name), `${name} is available`);
    }
    const [{ distance }] = await sql`select '[1,2]'::extensions.vector <-> '[4,6]' as distance`;
    assert.equal(distance, 5);
  } finally {
    await sql.end();
  }
});
