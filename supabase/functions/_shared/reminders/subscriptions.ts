// The user's Web Push subscriptions, as the user (RLS): saved through the definer function that
// moves an endpoint between accounts and keeps the newest reminders.max_push_subscriptions.
import { asUser, type JwtClaims } from "../db.ts";

export interface SavedSubscription {
  id: string;
  endpoint: string;
  user_agent: string | null;
  created_at: string;
  last_used_at: string;
}

export async function saveSubscription(
  claims: JwtClaims,
  s: { endpoint: string; p256dh: string; auth: string; userAgent: string | null },
): Promise<SavedSubscription> {
  const [row] = await asUser(claims, (tx) =>
    tx`
    select id, endpoint, user_agent, created_at::text, last_used_at::text
    from private.save_push_subscription(${s.endpoint}, ${s.p256dh}, ${s.auth}, ${s.userAgent})`);
  return row as SavedSubscription;
}

/** True when the caller had it. */
export async function deleteSubscription(claims: JwtClaims, id: string): Promise<boolean> {
  const rows = await asUser(claims, (tx) =>
    tx`
    delete from public.push_subscriptions where id = ${id} and user_id = auth.uid() returning id`);
  return rows.length > 0;
}
