/** Inbox test support: users in a time zone, workspaces of events inserted as the connectors would. */
import { type ChatUser, chatUser, withDb } from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";
import type { Workspace } from "./fixtures/workspaces.ts";

export interface InboxUser extends ChatUser {
  /** Fixture key -> event id. */
  events: Record<string, string>;
  timeZone: string;
}

/** A new user whose profile is in `timeZone`. */
export async function inboxUser(timeZone = "UTC", prefix = "inbox"): Promise<ChatUser> {
  const user = await chatUser(prefix);
  await withDb((sql) =>
    sql`update public.profiles set timezone = ${timeZone} where id = ${user.userId}`
  );
  return user;
}

/** A user with the workspace's events (threads and senders too), as the connectors write them. */
export async function workspaceUser(ws: Workspace, now = new Date()): Promise<InboxUser> {
  const user = await inboxUser(ws.timeZone, ws.name.split("-")[0]);
  const events = await withDb(async (sql) => {
    const ids: Record<string, string> = {};
    for (const e of ws.events) {
      const [thread] = await sql`
        insert into public.threads (user_id, source, external_id, subject, last_event_at)
        values (${user.userId}, ${e.source}, ${`${e.source}:${e.thread}`}, ${e.thread}, ${now})
        on conflict (user_id, source, external_id) do update set subject = excluded.subject
        returning id`;
      const [sender] = await sql`
        insert into public.entities (user_id, kind, name) values (${user.userId}, 'person', ${e.sender})
        returning id`;
      const [row] = await sql`
        insert into public.events (user_id, source, external_id, thread_id, event_type, title, body,
                                   importance_score, sender_entity_id, occurred_at)
        values (${user.userId}, ${e.source}, ${`${ws.name}:${e.key}`}, ${thread.id}, ${e.event_type},
                ${e.title ?? null}, ${e.body}, ${e.importance}, ${sender.id},
                ${new Date(now.getTime() - e.minutesAgo * 60_000)})
        returning id`;
      ids[e.key] = row.id;
    }
    return ids;
  });
  return { ...user, events, timeZone: ws.timeZone };
}

/**
 * Inserts `n` Slack messages spread over the last `minutes`, for big windows. Triggers are off
 * for the insert (session_replication_role = replica) so that 2,000 messages do not queue 2,000
 * indexing jobs; the columns the triggers would set are given.
 */
export async function insertMessages(userId: string, n: number, minutes: number, label = "bulk") {
  await withDb((sql) =>
    sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`
        insert into public.events (user_id, source, external_id, event_type, body, importance_score,
                                   occurred_at, content_hash, expires_at)
        select ${userId}, 'slack', ${label} || ':' || i, 'message', body, (i % 100),
               now() - make_interval(secs => (i::float / ${n}) * ${minutes} * 60),
               md5(body), now() + interval '30 days'
        from generate_series(1, ${n}) as i,
             lateral (select 'Message ' || i || ' in #ops: deploy step ' || (i % 17) ||
                             ' finished, queue depth ' || (i % 50) ||
                             ', nothing else to report for this service today.' as body) b`;
    })
  );
}

export const postPrompt = (user: ChatUser, body: unknown, headers: HeadersInit = {}) =>
  user.api("/prompts", { method: "POST", json: body, headers });

/** POST /prompts asking for the stream; the response is not read yet. */
export const streamPrompt = (user: ChatUser, body: unknown) =>
  fetch(`${FUNCTIONS_URL}/prompts`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${user.token}`,
      "content-type": "application/json",
      accept: "text/event-stream",
    },
    body: JSON.stringify(body),
  });
