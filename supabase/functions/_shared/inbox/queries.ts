// The inbox's list and read queries, as the user (RLS decides what is theirs), newest first
// with an opaque cursor over (created_at, id).
import { z } from "zod";
import type { Tx } from "../db.ts";
import { ApiError } from "../http.ts";
import { decodeCursor, encodeCursor } from "../validate.ts";
import { DRAFT_COLUMNS, type DraftRow } from "./drafts.ts";
import { PROPOSAL_COLUMNS, type ProposalRow } from "./proposals.ts";
import { SUMMARY_COLUMNS } from "./summarize.ts";
import type { SummaryRow } from "./types.ts";

const Cursor = z.strictObject({ t: z.iso.datetime({ offset: true }), id: z.uuid() });

export interface Page {
  cursor?: string;
  limit: number;
}

function after(page: Page) {
  const c = page.cursor ? decodeCursor(Cursor, page.cursor) : null;
  return { t: c?.t ?? null, id: c?.id ?? null };
}

/** `limit + 1` rows were read: the extra one says there is a next page. */
function paged<T extends { id: string; created_at: Date }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    next_cursor: rows.length > limit && last
      ? encodeCursor({ t: new Date(last.created_at).toISOString(), id: last.id })
      : null,
  };
}

export async function listSummaries(tx: Tx, page: Page) {
  const c = after(page);
  const rows = await tx<SummaryRow[]>`
    select ${SUMMARY_COLUMNS} from public.summaries
    where (${c.t}::timestamptz is null or (created_at, id) < (${c.t}::timestamptz, ${c.id}::uuid))
    order by created_at desc, id desc limit ${page.limit + 1}`;
  return paged(rows, page.limit);
}

export async function summaryById(tx: Tx, id: string): Promise<SummaryRow> {
  const [row] = await tx<SummaryRow[]>`
    select ${SUMMARY_COLUMNS} from public.summaries where id = ${id}`;
  if (!row) throw new ApiError(404, "not_found", "Summary not found");
  return row;
}

export async function deleteSummary(tx: Tx, id: string): Promise<void> {
  const [row] = await tx`delete from public.summaries where id = ${id} returning id`;
  if (!row) throw new ApiError(404, "not_found", "Summary not found");
}

export async function listProposals(tx: Tx, page: Page & { status?: string }) {
  const c = after(page);
  const rows = await tx<ProposalRow[]>`
    select ${PROPOSAL_COLUMNS} from public.proposals
    where (${page.status ?? null}::text is null or status = ${page.status ?? null})
      and (${c.t}::timestamptz is null or (created_at, id) < (${c.t}::timestamptz, ${c.id}::uuid))
    order by created_at desc, id desc limit ${page.limit + 1}`;
  return paged(rows, page.limit);
}

export async function listDrafts(tx: Tx, page: Page & { status?: string; kind?: string }) {
  const c = after(page);
  const rows = await tx<DraftRow[]>`
    select ${DRAFT_COLUMNS} from public.drafts
    where (${page.status ?? null}::text is null or status = ${page.status ?? null})
      and (${page.kind ?? null}::text is null or kind = ${page.kind ?? null})
      and (${c.t}::timestamptz is null or (created_at, id) < (${c.t}::timestamptz, ${c.id}::uuid))
    order by created_at desc, id desc limit ${page.limit + 1}`;
  return paged(rows, page.limit);
}
