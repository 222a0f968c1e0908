// The chain's queries on the functions' side. The stages are claimed by the tick in SQL
// (private.claim_reminder_batch: a compare-and-set per stage); a dispatcher then takes each send
// (pending -> sending, once), records what the provider answered, and the webhooks turn the
// user's answer into an acknowledgement that stops (or snoozes) the chain.
import { sql } from "../db.ts";
import type { AckAction, AckChannel, DispatchContext, SendResult } from "./types.ts";

/** Takes pending sends for this dispatcher; sends already taken, or whose chain stopped, are not returned. */
export function takeDispatches(ids: string[]): Promise<DispatchContext[]> {
  return sql<DispatchContext[]>`select * from private.take_reminder_dispatches(${ids}::uuid[])`;
}

/**
 * Records the outcome of a taken send (only while it is still 'sending'), and marks the push
 * subscriptions it went to as used, in one statement.
 */
export async function recordResult(
  id: string,
  result: SendResult,
  usedSubscriptions: string[] = [],
) {
  await sql`
    with used as (
      update public.push_subscriptions set last_used_at = now() where id = any (${usedSubscriptions}::uuid[])
    )
    update public.notification_log set
      status = ${result.status},
      provider_id = ${result.status === "sent" ? result.providerId : null},
      error = ${result.status === "sent" ? null : result.error},
      sent_at = ${result.status === "sent" ? sql`now()` : null}
    where id = ${id} and status = 'sending'`;
}

export interface SubscriptionRow {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** These users' browser subscriptions, newest first, by user (one query for a batch). */
export async function pushTargets(userIds: string[]): Promise<Map<string, SubscriptionRow[]>> {
  const byUser = new Map<string, SubscriptionRow[]>();
  if (userIds.length === 0) return byUser;
  const rows = await sql<SubscriptionRow[]>`
    select id, user_id, endpoint, p256dh, auth from public.push_subscriptions
    where user_id = any (${userIds}::uuid[]) order by last_used_at desc`;
  for (const row of rows) byUser.set(row.user_id, [...(byUser.get(row.user_id) ?? []), row]);
  return byUser;
}

/** The push service said the subscription is gone (404/410): it is deleted. */
export async function deletePushSubscription(subscriptionId: string) {
  await sql`delete from public.push_subscriptions where id = ${subscriptionId}`;
}

/** The auto-miss: the task becomes missed (PATCH /tasks/:id/missed semantics) if still open. */
export async function markMissed(taskId: string): Promise<boolean> {
  const rows = await sql`
    update public.tasks set status = 'missed', missed_at = now()
    where id = ${taskId} and status in ('open', 'snoozed') returning id`;
  return rows.length > 0;
}

export type AckResult = "ok" | "closed" | "no_chain";

/** Applies the user's answer to the task's chain (see private.acknowledge_reminder). */
export async function acknowledge(
  taskId: string,
  action: AckAction,
  channel: AckChannel,
): Promise<AckResult> {
  const [{ result }] = await sql<{ result: AckResult }[]>`
    select private.acknowledge_reminder(${taskId}, ${action}, ${channel}) as result`;
  return result;
}

export async function snoozeMinutes(): Promise<number> {
  const [{ n }] = await sql`select private.int_setting('reminders.snooze_minutes', 10) as n`;
  return n;
}

/** The account whose verified phone is `phone`, or null. */
export async function userByVerifiedPhone(phone: string) {
  const [row] = await sql<{ id: string; whatsapp_opted_in: boolean }[]>`
    select id, whatsapp_opted_in_at is not null as whatsapp_opted_in
    from public.profiles
    where phone = ${phone} and phone_verified and private.account_access(id) = 'allowed'`;
  return row ?? null;
}

/** A WhatsApp message from the user opens the 24-hour window for free-form replies. */
export async function noteInboundWhatsApp(userId: string) {
  await sql`update public.profiles set whatsapp_last_inbound_at = now() where id = ${userId}`;
}

/** WhatsApp STOP: consent ends. */
export async function optOutWhatsApp(userId: string) {
  await sql`update public.profiles set whatsapp_opted_in_at = null where id = ${userId}`;
}

/** The task a reply is about: the user's latest reminder sent in a chain still running. */
export async function taskAwaitingAnswer(userId: string): Promise<string | null> {
  const [row] = await sql<{ task_id: string }[]>`
    select l.task_id from public.notification_log l
    join private.reminder_chains c on c.task_id = l.task_id and c.round = l.round and c.starts_at = l.starts_at
    where l.user_id = ${userId} and l.status in ('sent', 'unknown') and l.stage <> 'missed'
      and c.stopped_at is null
    order by l.created_at desc limit 1`;
  return row?.task_id ?? null;
}

/** A send by id (webhooks carry it in their signed URL). */
export async function dispatchById(id: string) {
  const [row] = await sql<
    { id: string; task_id: string; user_id: string; stage: string; provider_id: string | null }[]
  >`
    select id, task_id, user_id, stage, provider_id from public.notification_log where id = ${id}`;
  return row ?? null;
}

/**
 * A Twilio status callback for a send: binds the provider's id if we did not get to record it
 * (a dispatcher that died after Twilio accepted), and keeps the delivery status. A failed or
 * undelivered message marks the send failed with Twilio's error code.
 */
export async function recordDeliveryStatus(
  id: string,
  providerId: string,
  status: string,
  errorCode: string | null,
) {
  const failed = status === "failed" || status === "undelivered";
  await sql`
    update public.notification_log set
      provider_id = coalesce(provider_id, ${providerId}),
      delivery_status = ${status},
      status = case when ${failed} then 'failed'
                    when status in ('sending', 'unknown') then 'sent' else status end,
      error = case when ${failed} then ${`Twilio ${status}${
    errorCode ? ` (error ${errorCode})` : ""
  }`} else error end,
      sent_at = coalesce(sent_at, now())
    where id = ${id} and (provider_id is null or provider_id = ${providerId})`;
}
