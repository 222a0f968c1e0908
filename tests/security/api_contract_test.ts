// The OpenAPI document covers every route, is up to date, and is served by the API.
import assert from "node:assert/strict";
import {
  buildDocument,
  loadApps,
  undescribedRoutes,
} from "../../supabase/functions/openapi/generate.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";

Deno.test("every route of every function is described in the OpenAPI document", async () => {
  const apps = await loadApps();
  assert.ok(Object.keys(apps).length >= 8);
  for (const [fn, app] of Object.entries(apps)) assert.deepEqual(undescribedRoutes(app), [], fn);
});

Deno.test("supabase/functions/openapi/openapi.json is what npm run openapi generates, and the API serves it", async () => {
  const committed = JSON.parse(await Deno.readTextFile("supabase/functions/openapi/openapi.json"));
  assert.deepEqual(
    committed,
    JSON.parse(JSON.stringify(await buildDocument())),
    "run npm run openapi",
  );
  const served = await fetch(`${FUNCTIONS_URL}/openapi`);
  assert.equal(served.status, 200);
  assert.deepEqual(await served.json(), committed);
  assert.equal(committed.openapi, "3.1.0");
});
