// The SDK's inbox families against the live stack, over a workspace of events inserted as the
// connectors write them: a summary, detected tasks with a proposal and a reply draft.
import assert from "node:assert/strict";
import { queueScript, withDb } from "../_support/chat.ts";
import { env } from "../_support/stack.ts";
import { WORKSPACES } from "../inbox/fixtures/workspaces.ts";
import { workspaceUser } from "../inbox/helpers.ts";
import { createAideClient } from "../../packages/client/src/index.ts";
import { failure } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test("inbox: prompts summarize and detect tasks; summaries, proposals and drafts through the SDK", async () => {
  const user = await workspaceUser(WORKSPACES[0]);
  const aide = createAideClient({
    url: env.SUPABASE_URL,
    accessToken: user.token,
  });

  const reply = "On it: I'll review the launch plan and sign off by Friday 5pm.";
  await queueScript("openai", {
    text: JSON.stringify({
      actions: [{
        event_id: user.events.launch_review,
        title: "Review the launch plan",
        details: "Sign-off requested",
        priority: "high",
        reason: "asked directly",
        due: null,
        action: "reply",
        reply,
      }, {
        event_id: user.events.invoice_overdue,
        title: "Confirm invoice payment",
        details: "Invoice 4411 is overdue",
        priority: "medium",
        reason: "overdue",
        due: null,
        action: "schedule",
        reply: null,
      }],
    }),
  }, { contains: user.events.launch_review });
  const detected = await aide.prompts.run({
    prompt: "what needs action?",
  }) as Any;
  assert.equal(detected.intent, "task_detection");
  const titles = new Map(
    detected.response.tasks.map((t: Any) => [t.source_event_id, t.title]),
  );
  assert.equal(titles.get(user.events.launch_review), "Review the launch plan");
  assert.equal(
    titles.get(user.events.invoice_overdue),
    "Confirm invoice payment",
  );

  const proposals = await aide.proposals.list({ status: "pending" }) as Any;
  const schedule = proposals.proposals.find((p: Any) =>
    p.source_event_id === user.events.invoice_overdue
  );
  assert.equal(schedule.kind, "schedule");
  const accepted = await aide.proposals.accept(schedule.id) as Any;
  assert.equal(accepted.status, "accepted");
  const conflict = await failure(aide.proposals.dismiss(accepted.id));
  assert.equal(conflict.status, 409, "a decision is final");

  const drafts = await aide.drafts.list() as Any;
  assert.deepEqual(drafts.drafts.map((d: Any) => d.content_json.text), [reply]);
  const edited = await aide.drafts.update(drafts.drafts[0].id, {
    content: { text: `${reply} Thanks!` },
  }) as Any;
  assert.equal(edited.content_json.text, `${reply} Thanks!`);
  const [stored] = await withDb((sql) =>
    sql`select content_json from public.drafts where id = ${drafts.drafts[0].id}`
  );
  assert.equal(stored.content_json.text, `${reply} Thanks!`);

  const summarized = await aide.prompts.run({
    prompt: "summarize last 2 hours",
  }) as Any;
  assert.equal(summarized.intent, "summarize");
  const summary = await aide.summaries.get(
    summarized.response.summary_id,
  ) as Any;
  assert.equal(summary.id, summarized.response.summary_id);
  assert.ok(
    ((await aide.summaries.list()) as Any).summaries.some((s: Any) => s.id === summary.id),
  );
  assert.equal(
    ((await aide.prompts.get(summarized.prompt_id)) as Any).intent,
    "summarize",
  );

  await aide.summaries.delete(summary.id);
  assert.equal((await failure(aide.summaries.get(summary.id))).status, 404);
});
