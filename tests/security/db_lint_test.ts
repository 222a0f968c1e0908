// The Supabase CLI's own linter (plpgsql_check over every PL/pgSQL function of ours) reports
// nothing at warning level: no implicit casts, unused variables or unreachable code. Its
// counterpart for Supabase's security advisor (splinter) is in tests/db/10_security.sql.
import assert from "node:assert/strict";
import { BIN, dbUrl, ROOT } from "../../local/config.ts";
import { cfg } from "../_support/stack.ts";

Deno.test("supabase db lint --level warning finds nothing", async () => {
  const out = await new Deno.Command(BIN.supabase, {
    args: [
      "db",
      "lint",
      `--remote=${dbUrl(cfg)}`,
      "--schema",
      "public,private",
      "--level",
      "warning",
      "--fail-on",
      "warning",
    ],
    cwd: ROOT,
    env: { PGSSLMODE: "disable" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, text);
  assert.match(text, /No schema errors found/, text);
});
