// Proposals (suggested actions from task detection) as the user decides them: accepted or
// dismissed, once; accepting makes sure the proposal's task is open.
import type { CurrentUser } from "../auth.ts";
import { asUser, jsonb, sql } from "../db.ts";
import { ApiError } from "../http.ts";
import { iso, type SourceRef } from "./types.ts";

export interface ProposalRow {
  id: string;
  kind: string;
  status: "pending" | "accepted" | "dismissed";
  content_json: Record<string, unknown>;
  source_refs: SourceRef[];
  source_event_id: string | null;
  window_start: Date;
  window_end: Date;
  task_id: string | null;
  prompt_id: string | null;
  decided_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const PROPOSAL_COLUMNS = sql`id, kind, status, content_json, source_refs, source_event_id,
  window_start, window_end, task_id, prompt_id, decided_at, created_at, updated_at`;

export function proposalJson(p: ProposalRow) {
  return {
    ...p,
    window_start: iso(p.window_start),
    window_end: iso(p.window_end),
    decided_at: p.decided_at && iso(p.decided_at),
    created_at: iso(p.created_at),
    updated_at: iso(p.updated_at),
  };
}

/**
 * Accept or dismiss, once. Accepting makes sure its task is open: the task detection made it,
 * and if the user closed or deleted it since, accepting opens a new one from the proposal.
 */
export async function decideProposal(
  user: CurrentUser,
  id: string,
  status: "accepted" | "dismissed",
): Promise<ProposalRow> {
  const { proposal, changed } = await asUser(user.claims, async (tx) => {
    const [p] = await tx<ProposalRow[]>`select ${PROPOSAL_COLUMNS} from public.proposals
                                        where id = ${id} for update`;
    if (!p) throw new ApiError(404, "not_found", "Proposal not found");
    if (p.status !== "pending") {
      if (p.status === status) return { proposal: p, changed: false }; // the same decision again
      throw new ApiError(409, "already_decided", `This proposal was already ${p.status}`);
    }
    const [decided] = await tx<ProposalRow[]>`
      update public.proposals set status = ${status} where id = ${id} returning ${PROPOSAL_COLUMNS}`;
    return { proposal: decided, changed: true };
  });
  if (!changed || status === "dismissed") return proposal;
  const taskId = await ensureTask(user.id, proposal);
  if (taskId === proposal.task_id) return proposal;
  const [linked] = await sql<ProposalRow[]>`
    update public.proposals set task_id = ${taskId} where id = ${id} returning ${PROPOSAL_COLUMNS}`;
  return linked;
}

async function ensureTask(userId: string, p: ProposalRow): Promise<string> {
  const [open] = await sql<{ id: string }[]>`
    select id from public.tasks where user_id = ${userId} and status in ('open', 'snoozed')
      and (id = ${p.task_id} or (${p.source_event_id}::uuid is not null and source_event_id = ${p.source_event_id}))
    limit 1`;
  if (open) return open.id;
  const c = p.content_json as { title?: string; description?: string };
  const [row] = await sql<{ id: string }[]>`
    insert into public.tasks (user_id, origin, status, priority, title, details, source_event_id, source_refs)
    values (${userId}, 'inbox', 'open', 'medium', ${String(c.title ?? "Follow up")},
            ${c.description ?? null}, ${p.source_event_id}, ${jsonb(p.source_refs)})
    returning id`;
  return row.id;
}
