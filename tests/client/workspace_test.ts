// The SDK's connectors, events, threads and notes against the live stack, over a workspace of
// events inserted as the connectors write them.
import assert from "node:assert/strict";
import { withDb } from "../_support/chat.ts";
import { env } from "../_support/stack.ts";
import { WORKSPACES } from "../inbox/fixtures/workspaces.ts";
import { workspaceUser } from "../inbox/helpers.ts";
import { createAideClient } from "../../packages/client/src/index.ts";
import { failure } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test("workspace: events and threads listed and filtered, an event deleted; notes CRUD; linked accounts", async () => {
  const user = await workspaceUser(WORKSPACES[0]);
  const aide = createAideClient({ url: env.SUPABASE_URL, accessToken: user.token });

  const slack = await aide.events.list({ source: "slack" }) as Any;
  const stored = await withDb((sql) =>
    sql`select id from public.events where user_id = ${user.userId} and source = 'slack'`
  );
  assert.deepEqual(slack.events.map((e: Any) => e.id).sort(), stored.map((e) => e.id).sort());
  const one = await aide.events.get(user.events.launch_review) as Any;
  assert.equal(one.id, user.events.launch_review);
  await aide.events.delete(user.events.launch_review);
  assert.equal((await failure(aide.events.get(user.events.launch_review))).status, 404);

  const threads = await aide.threads.list() as Any;
  assert.ok(threads.threads.length > 0);

  const note = await aide.notes.create({ title: "Launch", body: "Sign-off by Friday" }) as Any;
  assert.equal(
    (await aide.notes.update(note.id, { body: "Sign-off moved to Monday" }) as Any).body,
    "Sign-off moved to Monday",
  );
  assert.deepEqual((await aide.notes.list({ q: "Launch" }) as Any).notes.map((n: Any) => n.id), [
    note.id,
  ]);
  assert.equal((await aide.notes.get(note.id) as Any).title, "Launch");
  await aide.notes.delete(note.id);
  assert.equal((await failure(aide.notes.get(note.id))).status, 404);

  const { accounts } = await aide.connectors.list();
  assert.deepEqual(accounts, [], "no account linked yet");
});
