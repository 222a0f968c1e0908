// The inbox UI's reads of events and threads, as the user (RLS decides), newest first with
// (occurred_at, id) cursors.
import { asUser, type JwtClaims } from "../db.ts";
import { containsPattern } from "../validate.ts";

export interface EventFilters {
  source?: string;
  thread?: string;
  from?: string;
  to?: string;
  q?: string;
  after?: { t: string; id: string };
  limit: number;
}

const EVENT_COLUMNS =
  `e.id, e.source, e.source_account_id, e.external_id, e.thread_id, e.event_type, e.title,
  e.body, e.url, e.importance_score, e.occurred_at, e.expires_at, e.created_at,
  case when p.id is null then null else jsonb_build_object('id', p.id, 'name', p.name) end as sender`;

export function listEvents(user: JwtClaims, f: EventFilters) {
  return asUser(user, (tx) =>
    tx`
      select ${tx.unsafe(EVENT_COLUMNS)}
      from public.events e left join public.entities p on p.id = e.sender_entity_id
      where e.deleted_at is null
        and (${f.source ?? null}::text is null or e.source = ${f.source ?? null})
        and (${f.thread ?? null}::uuid is null or e.thread_id = ${f.thread ?? null})
        and (${f.from ?? null}::timestamptz is null or e.occurred_at >= ${f.from ?? null})
        and (${f.to ?? null}::timestamptz is null or e.occurred_at < ${f.to ?? null})
        and (${f.q ?? null}::text is null
             or coalesce(e.text_for_embedding, concat_ws(' ', e.title, e.body)) ilike ${
      f.q ? containsPattern(f.q) : null
    })
        and (${f.after?.t ?? null}::timestamptz is null
             or (e.occurred_at, e.id) < (${f.after?.t ?? null}::timestamptz, ${
      f.after?.id ?? null
    }::uuid))
      order by e.occurred_at desc, e.id desc
      limit ${f.limit + 1}`);
}

export function getEvent(user: JwtClaims, id: string) {
  return asUser(user, async (tx) => {
    const [row] = await tx`
      select ${tx.unsafe(EVENT_COLUMNS)}, e.raw
      from public.events e left join public.entities p on p.id = e.sender_entity_id
      where e.id = ${id} and e.deleted_at is null`;
    return row ?? null;
  });
}

/** Deletes the caller's event; its index rows go with it (trigger). */
export function deleteEvent(user: JwtClaims, id: string) {
  return asUser(
    user,
    async (tx) => (await tx`delete from public.events where id = ${id} returning id`).length > 0,
  );
}

export function listThreads(
  user: JwtClaims,
  f: { source?: string; after?: { t: string; id: string }; limit: number },
) {
  return asUser(user, (tx) =>
    tx`
      select t.id, t.source, t.external_id, t.subject, t.participants, t.content_preview, t.last_event_at,
             t.created_at, (select count(*)::int from public.events e where e.thread_id = t.id) as event_count
      from public.threads t
      where (${f.source ?? null}::text is null or t.source = ${f.source ?? null})
        and (${f.after?.t ?? null}::timestamptz is null
             or (coalesce(t.last_event_at, t.created_at), t.id) < (${
      f.after?.t ?? null
    }::timestamptz, ${f.after?.id ?? null}::uuid))
      order by coalesce(t.last_event_at, t.created_at) desc, t.id desc
      limit ${f.limit + 1}`);
}
