// Drafts as the user edits and sends them. Sending happens only on the user's explicit request
// and at most once:
// 1. the draft is read as the user (RLS: someone else's draft is a 404);
// 2. a compare-and-set claims it (draft | failed -> sending); a draft already sent answers what
//    was sent (idempotent), one being sent is a 409;
// 3. the reply goes out through the source's connector (_shared/connectors/send.ts: Slack
//    chat.postMessage in the thread, a Graph reply, Telegram sendMessage with the Business
//    connection), which refuses a revoked account; a `note` draft becomes a note;
// 4. the outcome is stored: sent (with the platform's id) or failed (with the error, retryable).
import { sendReply } from "../connectors/send.ts";
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
  const sent = await sendReply(user.id, d.source_event_id, d.content_json.text);
  return sent.external_id;
}
