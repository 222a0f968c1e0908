// Task detection: the window's actionable events become rows of the shared `tasks` table
// (origin 'inbox', seed 004 4.1 and 5.4), suggested actions become `proposals`, suggested
// replies `drafts`. One structured call per part of the window (step prompts.tasks); every
// event the model cites must be one it was shown (asked again once, then dropped).
//
// Dedupe: an event is behind at most one open task (the planner's unique index
// tasks_open_per_source_event); detecting it again updates that task, and so does an event that
// an open task already cites in its source_refs. An event whose task the user closed (done,
// cancelled) is left alone. Deadlines are the words of the message ("by Friday 5pm"), read
// deterministically from the message's time in the user's zone (window.ts), not a model's date.
import { z } from "zod";
import { jsonb, sql, type Tx } from "../db.ts";
import { type WindowEvent, windowEvents, type WindowFilter } from "./events.ts";
import type { InboxRun } from "./llm.ts";
import { pack, rankEvents } from "./rank.ts";
import { iso, Priority, type Reader, type SourceRef } from "./types.ts";
import { parseDueDate } from "./window.ts";

export const ACTION_KINDS = ["reply", "follow_up", "schedule", "delegate", "other"] as const;

const DetectedActions = z.strictObject({
  actions: z.array(z.strictObject({
    event_id: z.uuid().describe("the [id] of the event that needs action, copied exactly"),
    title: z.string().min(1).max(200).describe("what the user has to do, imperative"),
    details: z.string().max(1000).describe("the context the user needs, one or two sentences"),
    priority: Priority.describe(
      "high: urgent, blocking, a deadline within a day, or from a manager or customer; medium: needs doing soon; low: optional",
    ),
    reason: z.string().min(1).max(500).describe("why this needs the user's action"),
    due: z.string().max(100).nullable().describe(
      "the words of the message that give a deadline, verbatim (e.g. 'by Friday 5pm'); null when none",
    ),
    action: z.enum(ACTION_KINDS).describe(
      "reply: answer the sender; follow_up: do something and report; schedule: set up a meeting; delegate: hand to someone; other",
    ),
    reply: z.string().max(2000).nullable().describe(
      "when action is reply: a short reply the user could send as is; else null",
    ),
  })).max(20).describe("only events that need something from the user; none is a fine answer"),
});
type DetectedAction = z.infer<typeof DetectedActions>["actions"][number];

const SYSTEM = [
  "You find what needs the user's action in their workspace messages (Slack, Outlook email, Telegram).",
  "Each event is one line: [id] local time, source, type, where, from whom, importance (0-100), text.",
  "A request, question or deadline addressed to the user needs action; FYIs, newsletters and chatter do not.",
  "Cite events only by the ids in square brackets you were given.",
].join(" ");

export interface TaskRow {
  id: string;
  status: string;
  priority: "low" | "medium" | "high";
  title: string;
  details: string | null;
  reason: string | null;
  due_at: Date | null;
  source_event_id: string | null;
  source_refs: SourceRef[];
  created_at: Date;
  updated_at: Date;
}

export interface Detection {
  tasks: TaskRow[];
  proposalIds: string[];
  draftIds: string[];
  dropped: number;
}

export async function detectTasks(
  run: InboxRun,
  read: Reader,
  input: { filter: WindowFilter; timeZone: string; promptId: string },
): Promise<Detection> {
  const events = await read((tx) => windowEvents(tx, input.filter, run.settings.taskMaxEvents));
  const parts = pack(rankEvents(events, input.filter.window, new Map()), input.timeZone, {
    partTokens: run.settings.partTokens,
    summaryTokenBudget: run.settings.summaryTokenBudget,
  });
  const byId = new Map(events.map((e) => [e.id, e]));
  const found: DetectedAction[] = [];
  let dropped = 0;
  for (const part of parts) {
    const result = await detectInPart(run, part.text, new Set(part.events.map((e) => e.id)));
    found.push(...result.actions);
    dropped += result.dropped;
  }
  const seen = new Set<string>();
  const actions = found.filter((a) => !seen.has(a.event_id) && seen.add(a.event_id));

  const closed = await read((tx) => closedTaskEvents(tx, actions.map((a) => a.event_id)));
  const proposalIds: string[] = [];
  const draftIds: string[] = [];
  for (const action of actions) {
    if (closed.has(action.event_id)) continue;
    const event = byId.get(action.event_id)!;
    const taskId = await upsertTask(run.user.id, action, event, input.timeZone);
    // A reply the model wrote is a draft; any other suggestion is a proposal to accept or dismiss.
    if (action.reply?.trim()) {
      draftIds.push(await upsertDraft(run.user.id, input.promptId, event, action.reply.trim()));
    } else {
      proposalIds.push(await upsertProposal(run.user.id, input, event, action, taskId));
    }
  }
  // The answer is every open task behind an event of the window: found now or before.
  const tasks = await read((tx) => openTasksForEvents(tx, events.map((e) => e.id)));
  return { tasks, proposalIds, draftIds, dropped };
}

async function detectInPart(run: InboxRun, text: string, allowed: Set<string>) {
  const { object, invented } = await run.citingObject(
    "prompts.tasks",
    {
      system: SYSTEM,
      messages: [{
        role: "user",
        content: `Events (oldest first):\n${text}\n\nWhich of these need the user's action?`,
      }],
    },
    DetectedActions,
    { name: "actions", allowed, cited: (o) => o.actions.map((a) => a.event_id) },
  );
  const actions = object.actions.filter((a) => allowed.has(a.event_id));
  return { actions, dropped: object.actions.filter((a) => invented.has(a.event_id)).length };
}

const refOf = (e: WindowEvent): SourceRef => ({ type: "event", id: e.id, source: e.source });

/** Events behind a task the user closed: detecting them again must not reopen anything. */
async function closedTaskEvents(tx: Tx, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await tx<{ source_event_id: string }[]>`
    select distinct t.source_event_id from public.tasks t
    where t.source_event_id = any(${ids}::uuid[]) and t.status in ('done', 'cancelled', 'missed')
      and not exists (select 1 from public.tasks o where o.source_event_id = t.source_event_id
                      and o.status in ('open', 'snoozed'))`;
  return new Set(rows.map((r) => r.source_event_id));
}

/**
 * Creates the event's task or updates the open one behind it (by source_event_id, or by an
 * open task citing the event). Written on the service connection for the verified user: the
 * task's origin and source refs are not the user's to forge.
 */
async function upsertTask(
  userId: string,
  a: DetectedAction,
  e: WindowEvent,
  timeZone: string,
): Promise<string> {
  const due = a.due ? parseDueDate(a.due, new Date(e.occurred_at), timeZone) : null;
  const ref = [refOf(e)];
  const [cited] = await sql<{ id: string }[]>`
    update public.tasks set priority = ${a.priority}, title = ${a.title}, details = ${a.details},
      reason = ${a.reason}, due_at = coalesce(${due}, due_at), updated_at = now(),
      source_refs = case when source_refs @> ${jsonb(ref)} then source_refs
                         else source_refs || ${jsonb(ref)} end
    where user_id = ${userId} and status in ('open', 'snoozed')
      and (source_event_id = ${e.id} or source_refs @> ${jsonb([{ id: e.id }])})
    returning id`;
  if (cited) return cited.id;
  const [row] = await sql<{ id: string }[]>`
    insert into public.tasks (user_id, origin, status, priority, title, details, reason, due_at,
                              time_zone, source_event_id, source_refs)
    values (${userId}, 'inbox', 'open', ${a.priority}, ${a.title}, ${a.details}, ${a.reason},
            ${due}, ${timeZone}, ${e.id}, ${jsonb(ref)})
    on conflict (user_id, source_event_id)
      where source_event_id is not null and status in ('open', 'snoozed')
    do update set priority = excluded.priority, title = excluded.title,
      details = excluded.details, reason = excluded.reason,
      due_at = coalesce(excluded.due_at, public.tasks.due_at), updated_at = now()
    returning id`;
  return row.id;
}

const DRAFT_KIND: Record<string, string> = {
  slack: "slack_reply",
  outlook: "outlook_reply",
  telegram: "telegram_reply",
};

/** One open draft per event and kind: detecting again rewrites its text. */
async function upsertDraft(userId: string, promptId: string, e: WindowEvent, text: string) {
  const kind = DRAFT_KIND[e.source] ?? "note";
  const subject = e.source === "outlook" && e.title
    ? `Re: ${e.title.replace(/^re:\s*/i, "")}`
    : undefined;
  const content = subject ? { text, subject } : { text };
  const [row] = await sql<{ id: string }[]>`
    insert into public.drafts (user_id, prompt_id, kind, content_json, source_refs, source_event_id)
    values (${userId}, ${promptId}, ${kind}, ${jsonb(content)}, ${jsonb([refOf(e)])}, ${e.id})
    on conflict (user_id, source_event_id, kind) where status = 'draft' and source_event_id is not null
    do update set content_json = excluded.content_json, prompt_id = excluded.prompt_id
    returning id`;
  return row.id;
}

async function upsertProposal(
  userId: string,
  input: { filter: WindowFilter; promptId: string },
  e: WindowEvent,
  a: DetectedAction,
  taskId: string,
) {
  const content = {
    kind: a.action,
    title: a.title,
    description: a.details || a.reason,
    event_id: e.id,
  };
  const [row] = await sql<{ id: string }[]>`
    insert into public.proposals (user_id, prompt_id, window_start, window_end, content_json,
                                  source_refs, source_event_id, kind, task_id)
    values (${userId}, ${input.promptId}, ${input.filter.window.start}, ${input.filter.window.end},
            ${jsonb(content)}, ${jsonb([refOf(e)])}, ${e.id}, ${a.action}, ${taskId})
    on conflict (user_id, source_event_id, kind) where status = 'pending' and source_event_id is not null
    do update set content_json = excluded.content_json, prompt_id = excluded.prompt_id,
      window_start = excluded.window_start, window_end = excluded.window_end,
      task_id = excluded.task_id
    returning id`;
  return row.id;
}

const TASK_COLUMNS = sql`id, status, priority, title, details, reason, due_at, source_event_id,
  source_refs, created_at, updated_at`;

function openTasksForEvents(tx: Tx, ids: string[]): Promise<TaskRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return tx<TaskRow[]>`
    select ${TASK_COLUMNS} from public.tasks
    where source_event_id = any(${ids}::uuid[]) and status in ('open', 'snoozed')
    order by case priority when 'high' then 0 when 'medium' then 1 else 2 end,
             due_at nulls last, created_at desc, id`;
}

/** seed 004 5.3/5.4: {tasks, total, by_priority}; a priority filter narrows `tasks` and `total`. */
export function tasksResponse(tasks: TaskRow[], priority: string | null) {
  const by_priority = { high: 0, medium: 0, low: 0 };
  for (const t of tasks) by_priority[t.priority]++;
  const shown = priority ? tasks.filter((t) => t.priority === priority) : tasks;
  return {
    tasks: shown.map(taskJson),
    total: shown.length,
    by_priority,
  };
}

export function taskJson(t: TaskRow) {
  return {
    id: t.id,
    status: t.status,
    priority: t.priority,
    title: t.title,
    details: t.details,
    reason: t.reason,
    due_at: t.due_at && iso(t.due_at),
    source_event_id: t.source_event_id,
    source_refs: t.source_refs,
    created_at: iso(t.created_at),
    updated_at: iso(t.updated_at),
  };
}
