// The store every connector writes through: a normalized event becomes an events row (unique per
// user, source and external id; an edit or a redelivery updates the same row), its thread, and the
// people in it. Indexing follows from the table's triggers (index_jobs -> ingest), expiry from
// inbox.retention, and the size bound of raw from inbox.raw_max_bytes, all in SQL.
//
// Importance (0..100) is computed from signals each platform can tell for certain:
//   base 10; direct message +40; the user is mentioned +35; mail addressed To the user +20, only
//   Cc +5; a reply in a thread the user started or wrote in +25; the user's own messages 5.
import { jsonb, sql, type Tx } from "../db.ts";
import { describePerson, resolvePerson } from "./entities.ts";
import type { ImportanceSignals, LinkedAccount, NormalizedEvent } from "./types.ts";

export function importanceScore(s: ImportanceSignals = {}): number {
  if (s.fromUser) return 5;
  let score = 10;
  if (s.directMessage) score += 40;
  if (s.mentionsUser) score += 35;
  if (s.addressedTo) score += 20;
  else if (s.ccOnly) score += 5;
  if (s.replyInUserThread) score += 25;
  return Math.min(100, score);
}

const clip = (text: string | null | undefined, max: number) =>
  text == null ? null : text.length > max ? text.slice(0, max) : text;

/** What is indexed: who wrote it and where, so "what did Dana ask me?" finds it by name too. */
export function textForEmbedding(e: NormalizedEvent): string {
  const lines = [
    describePerson(e.sender) && `From: ${describePerson(e.sender)}`,
    e.thread?.subject && `In: ${e.thread.subject}`,
    e.title && `Subject: ${e.title}`,
    e.body,
  ];
  return clip(lines.filter(Boolean).join("\n"), 50_000)!;
}

/** Stores events for one account in one transaction; answers the ids, in order. */
export async function storeEvents(
  account: LinkedAccount,
  events: NormalizedEvent[],
): Promise<string[]> {
  if (!events.length) return [];
  return await sql.begin(async (tx) => {
    const ids: string[] = [];
    for (const e of events) ids.push(await storeOne(tx, account, e));
    await tx`update public.linked_accounts set last_event_at = greatest(last_event_at, ${
      maxDate(events)
    })
             where id = ${account.id}`;
    return ids;
  }) as string[];
}

const maxDate = (events: NormalizedEvent[]) =>
  new Date(Math.max(...events.map((e) => e.occurredAt.getTime())));

async function storeOne(tx: Tx, account: LinkedAccount, e: NormalizedEvent): Promise<string> {
  const user = account.user_id;
  const sender = await resolvePerson(tx, user, e.sender);
  for (const p of e.participants ?? []) await resolvePerson(tx, user, p);
  let threadId: string | null = null;
  if (e.thread) {
    const names = [e.sender, ...(e.participants ?? [])].map(describePerson).filter(Boolean);
    const [t] = await tx<{ id: string }[]>`
      insert into public.threads (user_id, source, external_id, subject, participants, content_preview, last_event_at)
      values (${user}, ${account.provider}, ${e.thread.externalId}, ${
      clip(e.thread.subject ?? e.title, 1000)
    },
              ${jsonb(names)}, ${clip(e.body, 500)}, ${e.occurredAt})
      on conflict (user_id, source, external_id) do update set
        subject = coalesce(public.threads.subject, excluded.subject),
        participants = (select coalesce(jsonb_agg(distinct p), '[]') from jsonb_array_elements(
                          public.threads.participants || excluded.participants) p),
        content_preview = case when excluded.last_event_at >= coalesce(public.threads.last_event_at, '-infinity')
                               then excluded.content_preview else public.threads.content_preview end,
        last_event_at = greatest(public.threads.last_event_at, excluded.last_event_at)
      returning id`;
    threadId = t.id;
  }
  const [row] = await tx<{ id: string }[]>`
    insert into public.events (user_id, source, source_account_id, external_id, thread_id, event_type, title, body,
                               url, text_for_embedding, importance_score, sender_entity_id, occurred_at, raw)
    values (${user}, ${account.provider}, ${account.id}, ${e.externalId}, ${threadId}, ${e.eventType},
            ${clip(e.title, 1000)}, ${clip(e.body, 100_000)}, ${clip(e.url, 2000)}, ${
    textForEmbedding(e)
  },
            ${importanceScore(e.signals)}, ${sender}, ${e.occurredAt}, private.bounded_raw(${
    jsonb(e.raw ?? {})
  }))
    on conflict (user_id, source, external_id) do update set
      thread_id = coalesce(excluded.thread_id, public.events.thread_id),
      -- A mention outranks the plain message event Slack sends for the same message.
      event_type = case when public.events.event_type = 'mention' then 'mention' else excluded.event_type end,
      title = excluded.title, body = excluded.body, url = coalesce(excluded.url, public.events.url),
      text_for_embedding = excluded.text_for_embedding,
      importance_score = greatest(public.events.importance_score, excluded.importance_score),
      sender_entity_id = coalesce(excluded.sender_entity_id, public.events.sender_entity_id),
      raw = excluded.raw, deleted_at = null
    returning id`;
  return row.id;
}

/** The platform deleted these messages: the events go, with their index rows. */
export async function deleteEvents(account: LinkedAccount, externalIds: string[]): Promise<number> {
  if (!externalIds.length) return 0;
  const rows = await sql`
    delete from public.events
    where user_id = ${account.user_id} and source = ${account.provider} and external_id = any (${externalIds})
    returning id`;
  return rows.length;
}
