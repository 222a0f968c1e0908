/**
 * "What needs action?": tasks in the shared table with priority, due dates read from the message
 * in the user's zone, reasons and source refs; no duplicates; proposals and drafts; decisions and
 * sending, once.
 */
import assert from "node:assert/strict";
import { queueScript, withDb } from "../_support/chat.ts";
import { parseDueDate } from "../../supabase/functions/_shared/inbox/window.ts";
import { WORKSPACES } from "./fixtures/workspaces.ts";
import { type InboxUser, inboxUser, postPrompt, workspaceUser } from "./helpers.ts";

const dana = WORKSPACES[0];
const ASK = { prompt: "what needs action?" };

const tasksOf = (userId: string) =>
  withDb((sql) =>
    sql`select id, status, priority, title, due_at, reason, source_event_id, source_refs, origin
        from public.tasks where user_id = ${userId} order by created_at, id`
  );

/** The model's answer for this user's task detection call (and the call that asks again). */
function scriptActions(user: InboxUser, actions: unknown[], times = 2) {
  return queueScript("openai", { text: JSON.stringify({ actions }) }, {
    contains: user.events.launch_review,
  }, times);
}

const action = (event_id: string, extra: Record<string, unknown>) => ({
  event_id,
  title: "Do it",
  details: "details",
  priority: "medium",
  reason: "asked directly",
  due: null,
  action: "follow_up",
  reply: null,
  ...extra,
});

Deno.test("what needs action?: the seed's shape; every actionable event one task, twice asked still one", async () => {
  const user = await workspaceUser(dana);
  const first = await postPrompt(user, ASK);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.intent, "task_detection");
  const { tasks, total, by_priority } = first.body.response;
  const mine = new Set(Object.values(user.events));
  assert.ok(tasks.length > 0);
  assert.equal(total, tasks.length);
  assert.equal(by_priority.high + by_priority.medium + by_priority.low, tasks.length);
  for (const t of tasks) {
    assert.deepEqual(Object.keys(t).sort(), [
      "created_at",
      "details",
      "due_at",
      "id",
      "priority",
      "reason",
      "source_event_id",
      "source_refs",
      "status",
      "title",
      "updated_at",
    ]);
    assert.ok(mine.has(t.source_event_id));
    assert.equal(t.status, "open");
    assert.deepEqual(t.source_refs, [{
      type: "event",
      id: t.source_event_id,
      source: t.source_refs[0].source,
    }]);
  }
  const stored = await tasksOf(user.userId);
  assert.equal(stored.length, tasks.length);
  assert.ok(stored.every((t) => t.origin === "inbox"));

  const second = await postPrompt(user, ASK);
  assert.equal(second.status, 200, second.text);
  assert.deepEqual(
    second.body.response.tasks.map((t: { id: string }) => t.id).sort(),
    tasks.map((t: { id: string }) => t.id).sort(),
  );
  assert.equal((await tasksOf(user.userId)).length, stored.length);
});

Deno.test("scripted detection: due date from the message in the user's zone, drafts and proposals, invented ids dropped", async () => {
  const user = await workspaceUser(dana);
  const invented = crypto.randomUUID();
  await scriptActions(user, [
    action(user.events.launch_review, {
      priority: "high",
      due: "by Friday 5pm",
      action: "reply",
      reply: "On it: I'll review the launch plan and sign off by Friday 5pm.",
    }),
    action(user.events.invoice_overdue, {
      action: "follow_up",
      title: "Confirm invoice 4411 payment",
    }),
    action(invented, { title: "made up" }),
  ]);
  const res = await postPrompt(user, ASK);
  assert.equal(res.status, 200, res.text);
  const tasks = await tasksOf(user.userId);
  assert.deepEqual(
    tasks.map((t) => t.source_event_id).sort(),
    [user.events.launch_review, user.events.invoice_overdue].sort(),
  );
  const launch = tasks.find((t) => t.source_event_id === user.events.launch_review)!;
  const [event] = await withDb((sql) =>
    sql`select occurred_at from public.events where id = ${user.events.launch_review}`
  );
  assert.equal(
    launch.due_at.toISOString(),
    parseDueDate("by Friday 5pm", event.occurred_at, dana.timeZone)!.toISOString(),
  );
  assert.equal(launch.priority, "high");
  assert.equal(launch.reason, "asked directly");
  assert.deepEqual(res.body.response.by_priority, { high: 1, medium: 1, low: 0 });

  const drafts = await withDb((sql) =>
    sql`select id, kind, content_json, source_event_id, status from public.drafts where user_id = ${user.userId}`
  );
  assert.deepEqual(drafts.map((d) => [d.kind, d.source_event_id, d.status]), [[
    "slack_reply",
    user.events.launch_review,
    "draft",
  ]]);
  assert.deepEqual(res.body.response.draft_ids, [drafts[0].id]);
  const proposals = await withDb((sql) =>
    sql`select id, kind, source_event_id, task_id from public.proposals where user_id = ${user.userId}`
  );
  assert.deepEqual(proposals.map((p) => [p.kind, p.source_event_id]), [[
    "follow_up",
    user.events.invoice_overdue,
  ]]);
  assert.equal(
    proposals[0].task_id,
    tasks.find((t) => t.source_event_id === user.events.invoice_overdue)!.id,
  );
  // Nothing stored cites the invented id.
  const [cites] = await withDb((sql) =>
    sql`select (select count(*) from public.tasks where source_event_id = ${invented})
             + (select count(*) from public.drafts where source_event_id = ${invented})
             + (select count(*) from public.proposals where source_event_id = ${invented}) as n`
  );
  assert.equal(Number(cites.n), 0);

  // The same answer again: the same task, draft and proposal, updated, not duplicated.
  await scriptActions(user, [
    action(user.events.launch_review, {
      priority: "high",
      action: "reply",
      reply: "Reviewing it now.",
    }),
    action(user.events.invoice_overdue, { action: "follow_up" }),
  ], 1);
  const again = await postPrompt(user, ASK);
  assert.equal(again.status, 200, again.text);
  assert.deepEqual((await tasksOf(user.userId)).map((t) => t.id), tasks.map((t) => t.id));
  const draftsAfter = await withDb((sql) =>
    sql`select id, content_json from public.drafts where user_id = ${user.userId}`
  );
  assert.deepEqual(draftsAfter.map((d) => [d.id, d.content_json.text]), [[
    drafts[0].id,
    "Reviewing it now.",
  ]]);
  const [p] = await withDb((sql) =>
    sql`select count(*)::int as n from public.proposals where user_id = ${user.userId}`
  );
  assert.equal(p.n, 1);
  // The due date the first answer gave is kept when the second gives none.
  const launchAfter = (await tasksOf(user.userId)).find((t) => t.id === launch.id)!;
  assert.equal(launchAfter.due_at.toISOString(), launch.due_at.toISOString());

  // A task the user closed is not reopened by asking again; a priority filter narrows the list.
  await withDb((sql) => sql`update public.tasks set status = 'done' where id = ${launch.id}`);
  await scriptActions(user, [
    action(user.events.launch_review, { priority: "high" }),
    action(user.events.invoice_overdue, { priority: "low" }),
  ], 1);
  const third = await postPrompt(user, {
    prompt: "what needs action?",
    context: { priority: "low" },
  });
  assert.equal(third.status, 200, third.text);
  const open = (await tasksOf(user.userId)).filter((t) => t.status === "open");
  assert.deepEqual(open.map((t) => t.source_event_id), [user.events.invoice_overdue]);
  assert.deepEqual(third.body.response.tasks.map((t: { priority: string }) => t.priority), ["low"]);
});

Deno.test("proposals: accepted or dismissed once, through the API; someone else's is a 404", async () => {
  const user = await workspaceUser(dana);
  await scriptActions(user, [action(user.events.invoice_overdue, { action: "schedule" })], 1);
  assert.equal((await postPrompt(user, ASK)).status, 200);
  const list = await user.api("/proposals?status=pending");
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.proposals.length, 1);
  const id = list.body.proposals[0].id;
  const stranger = await inboxUser();
  assert.equal(
    (await stranger.api(`/proposals/${id}`, { method: "PATCH", json: { status: "dismissed" } }))
      .status,
    404,
  );

  // The user closed the task meanwhile: accepting opens a new one from the proposal.
  await withDb((sql) =>
    sql`update public.tasks set status = 'done' where user_id = ${user.userId}`
  );
  const accepted = await user.api(`/proposals/${id}`, {
    method: "PATCH",
    json: { status: "accepted" },
  });
  assert.equal(accepted.status, 200, accepted.text);
  assert.equal(accepted.body.status, "accepted");
  assert.ok(accepted.body.decided_at);
  const open = (await tasksOf(user.userId)).filter((t) => t.status === "open");
  assert.deepEqual(open.map((t) => t.id), [accepted.body.task_id]);
  assert.equal(
    (await user.api(`/proposals/${id}`, { method: "PATCH", json: { status: "accepted" } })).status,
    200,
  );
  const flip = await user.api(`/proposals/${id}`, {
    method: "PATCH",
    json: { status: "dismissed" },
  });
  assert.equal(flip.status, 409, flip.text);
  // Through PostgREST the decision is final too.
  const [row] = await withDb((sql) => sql`select status from public.proposals where id = ${id}`);
  assert.equal(row.status, "accepted");
});

Deno.test("drafts: edited, sent once and only on request; a sent draft no longer changes", async () => {
  const user = await inboxUser("Asia/Tokyo");
  const [draft] = await withDb((sql) =>
    sql`insert into public.drafts (user_id, kind, content_json) values (${user.userId}, 'note', '{"text": "first"}')
        returning id, content_hash`
  );
  const edited = await user.api(`/drafts/${draft.id}`, {
    method: "PATCH",
    json: { content: { text: "Remember: ramen at noon", subject: "Lunch" } },
  });
  assert.equal(edited.status, 200, edited.text);
  assert.equal(edited.body.content_json.text, "Remember: ramen at noon");
  assert.notEqual(edited.body.content_hash, draft.content_hash);

  const notes = () =>
    withDb((sql) => sql`select id, title, body from public.notes where user_id = ${user.userId}`);
  assert.equal((await notes()).length, 0, "nothing is sent before the explicit call");
  const sent = await user.api(`/drafts/${draft.id}/send`, { method: "POST" });
  assert.equal(sent.status, 200, sent.text);
  assert.equal(sent.body.sent_now, true);
  assert.equal(sent.body.draft.status, "sent");
  const [note] = await notes();
  assert.deepEqual([note.title, note.body], ["Lunch", "Remember: ramen at noon"]);
  assert.equal(sent.body.draft.sent_external_id, note.id);

  const twice = await Promise.all(
    [1, 2].map(() => user.api(`/drafts/${draft.id}/send`, { method: "POST" })),
  );
  assert.deepEqual(twice.map((r) => [r.status, r.body.sent_now]), [[200, false], [200, false]]);
  assert.equal((await notes()).length, 1);
  const late = await user.api(`/drafts/${draft.id}`, {
    method: "PATCH",
    json: { content: { text: "changed" } },
  });
  assert.equal(late.status, 409, late.text);
  const list = await user.api("/drafts?status=sent&kind=note");
  assert.deepEqual(list.body.drafts.map((d: { id: string }) => d.id), [draft.id]);
});
