// Drafts and proposals as the user sees and decides them: lists, edits, decisions, and sending a
// draft, which happens only on the user's explicit request and at most once:
// 1. the draft is read as the user (RLS: someone else's draft is a 404);
// 2. a compare-and-set claims it (draft | failed -> sending); a draft already sent answers what
//    was sent (idempotent), one being sent is a 409;
// 3. the reply goes out through the source's connector (_shared/connectors/send.ts: Slack
//    chat.postMessage in the thread, a Graph reply, Telegram sendMessage with the Business
//    connection), which refuses a revoked account; a `note` draft becomes a note;
// 4. the outcome is stored: sent (with the platform's id) or failed (with the error, retryable).
import { asUser, jsonb, sql, type Tx } from "../db.ts";
import { ApiError } from "../http.ts";
import type { CurrentUser } from "../auth.ts";
import { iso, type SourceRef } from "./types.ts";

export interface DraftRow {
  id: string;
  kind: "slack_reply" | "telegram_reply" | "outlook_reply" | "note";
  content_json: { text: string; subject?: string };
  content_hash: string;
  source_refs: SourceRef[];
  source_event_id: string | null;
  status: "draft" | "sending" | "sent" | "failed" | "discarded";
  send_attempts: number;
  sent_at: Date | null;
  sent_external_id: string | null;
  send_error: string | null;
  prompt_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export const DRAFT_COLUMNS = sql`id, kind, content_json, content_hash, source_refs, source_event_id,
  status, send_attempts, sent_at, sent_external_id, send_error, prompt_id, created_at, updated_at`;

export function draftJson(d: DraftRow) {
  return {
    ...d,
    sent_at: d.sent_at && iso(d.sent_at),
    created_at: iso(d.created_at),
    updated_at: iso(d.updated_at),
  };
}

export async function draftById(tx: Tx, id: string): Promise<DraftRow> {
  const [row] = await tx<DraftRow[]>`select ${DRAFT_COLUMNS} from public.drafts where id = ${id}`;
  if (!row) throw new ApiError(404, "not_found", "Draft not found");
  return row;
}

/** The user edits the text or discards (or restores) a draft; a sent draft no longer changes. */
export function updateDraft(
  user: CurrentUser,
  id: string,
  patch: { content?: { text: string; subject?: string }; status?: "draft" | "discarded" },
): Promise<DraftRow> {
  return asUser(user.claims, async (tx) => {
    const draft = await draftById(tx, id);
    if (draft.status === "sending" || draft.status === "sent") {
      throw new ApiError(
        409,
        "draft_sent",
        `This draft is ${draft.status}; it can no longer change`,
      );
    }
    const content = patch.content
      ? { ...draft.content_json, ...patch.content }
      : draft.content_json;
    const [row] = await tx<DraftRow[]>`
      update public.drafts set content_json = ${jsonb(content)},
        status = ${patch.status ?? draft.status}
      where id = ${id} returning ${DRAFT_COLUMNS}`;
    return row;
  });
}

export interface SendOutcome {
  draft: DraftRow;
  /** false: it had been sent before; nothing went out now. */
  sent_now: boolean;
}

export async function sendDraft(user: CurrentUser, id: string): Promise<SendOutcome> {
  const draft = await asUser(user.claims, (tx) => draftById(tx, id));
  if (draft.status === "sent") return { draft, sent_now: false };
  if (draft.status === "discarded") {
    throw new ApiError(409, "draft_discarded", "This draft was discarded; restore it to send it");
  }
  const [claimed] = await sql<DraftRow[]>`
    update public.drafts set status = 'sending', send_attempts = send_attempts + 1, send_error = null
    where id = ${id} and user_id = ${user.id} and status in ('draft', 'failed')
    returning ${DRAFT_COLUMNS}`;
  if (!claimed) {
    const now = await asUser(user.claims, (tx) => draftById(tx, id));
    if (now.status === "sent") return { draft: now, sent_now: false };
    throw new ApiError(409, "draft_sending", "This draft is being sent");
  }
  let externalId: string | null;
  try {
    externalId = await deliver(user, claimed);
  } catch (err) {
    const message = err instanceof ApiError
      ? err.message
      : "The platform did not accept the message";
    // Refusals that sending again cannot fix (revoked account) leave the draft a draft.
    const status = err instanceof ApiError && err.status === 409 ? "draft" : "failed";
    await sql`update public.drafts set status = ${status}, send_error = ${message} where id = ${id}`;
    throw err instanceof ApiError ? err : new ApiError(502, "send_failed", message);
  }
  const [sent] = await sql<DraftRow[]>`
    update public.drafts set status = 'sent', sent_at = now(), sent_external_id = ${externalId}
    where id = ${id} returning ${DRAFT_COLUMNS}`;
  return { draft: sent, sent_now: true };
}

async function deliver(user: CurrentUser, d: DraftRow): Promise<string | null> {
  if (d.kind === "note") {
    const [note] = await asUser(
      user.claims,
      (tx) =>
        tx<{ id: string }[]>`insert into public.notes (user_id, title, body)
        values (${user.id}, ${
          d.content_json.subject ?? null
        }, ${d.content_json.text}) returning id`,
    );
    return note.id;
  }
  if (!d.source_event_id) {
    throw new ApiError(409, "no_source_event", "This draft replies to no event");
  }
  const { sendReply } = await import("../connectors/send.ts");
  const sent = await sendReply(user.id, d.source_event_id, d.content_json.text);
  return sent.external_id;
}

// ---- proposals ----------------------------------------------------------------------------------

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
