// The user's notes (seed 004 4.1), read and written as the user (RLS and column grants decide).
// A note's text is indexed for search like events (trigger -> index_jobs -> ingest), so changes
// here need no indexing code; a deleted note leaves the index at once.
import { asUser, type JwtClaims } from "../db.ts";
import { containsPattern } from "../validate.ts";

export interface NoteRow {
  id: string;
  title: string | null;
  body: string;
  created_at: Date;
  updated_at: Date;
  index_status: string | null;
}

import type { Tx } from "../db.ts";

const COLUMNS = (tx: Tx) =>
  tx.unsafe(`n.id, n.title, n.body, n.created_at, n.updated_at,
    (select j.status from public.index_jobs j where j.object_type = 'note' and j.object_id = n.id) as index_status`);

export function listNotes(
  user: JwtClaims,
  f: { q?: string; after?: { t: string; id: string }; limit: number },
) {
  return asUser(user, (tx) =>
    tx<NoteRow[]>`
      select ${COLUMNS(tx)} from public.notes n
      where n.deleted_at is null
        and (${f.q ?? null}::text is null or n.title ilike ${f.q ? containsPattern(f.q) : null}
             or n.body ilike ${f.q ? containsPattern(f.q) : null})
        and (${f.after?.t ?? null}::timestamptz is null
             or (n.updated_at, n.id) < (${f.after?.t ?? null}::timestamptz, ${
      f.after?.id ?? null
    }::uuid))
      order by n.updated_at desc, n.id desc
      limit ${f.limit + 1}`);
}

export function getNote(user: JwtClaims, id: string) {
  return asUser(user, async (tx) => {
    const [row] = await tx<NoteRow[]>`select ${
      COLUMNS(tx)
    } from public.notes n where n.id = ${id} and n.deleted_at is null`;
    return row ?? null;
  });
}

export function createNote(user: JwtClaims, note: { title?: string | null; body: string }) {
  return asUser(user, async (tx) => {
    const [{ id }] = await tx<{ id: string }[]>`
      insert into public.notes (user_id, title, body) values (${user.sub}, ${
      note.title ?? null
    }, ${note.body})
      returning id`;
    const [row] = await tx<NoteRow[]>`select ${COLUMNS(tx)} from public.notes n where n.id = ${id}`;
    return row;
  });
}

export function updateNote(
  user: JwtClaims,
  id: string,
  change: { title?: string | null; body?: string },
) {
  return asUser(user, async (tx) => {
    const rows = await tx`
      update public.notes set
        title = case when ${"title" in change} then ${change.title ?? null} else title end,
        body = coalesce(${change.body ?? null}, body)
      where id = ${id} and deleted_at is null returning id`;
    if (!rows.length) return null;
    const [row] = await tx<NoteRow[]>`select ${COLUMNS(tx)} from public.notes n where n.id = ${id}`;
    return row;
  });
}

export function deleteNote(user: JwtClaims, id: string) {
  return asUser(
    user,
    async (tx) => (await tx`delete from public.notes where id = ${id} returning id`).length > 0,
  );
}
