// The SDK's generated types are what `npm run types` makes from the OpenAPI document and from
// the test stack's database: stale types fail here.
import assert from "node:assert/strict";
import { env } from "../_support/stack.ts";
import { expectedFiles, staleFiles } from "../../scripts/types.ts";

Deno.test("packages/client/src/generated is up to date with the OpenAPI document and the schema", async () => {
  const stale = await staleFiles(
    await expectedFiles({ dbUrl: env.SUPABASE_DB_URL }),
  );
  assert.deepEqual(
    stale,
    [],
    `stale generated types: ${stale.join(", ")}; run \`npm run types\``,
  );
});
