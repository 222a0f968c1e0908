// The reminders module's contract: the escalation stages, what a dispatch is, and the actions a
// user's answer (push button, WhatsApp reply, key pressed in a call) turns into.

/** The chain, in order: each stage comes one escalation window after the one before. */
export const STAGES = ["push", "whatsapp", "call", "missed"] as const;
export type Stage = (typeof STAGES)[number];

/** A send (or the auto-miss) as recorded in public.notification_log. */
export type DispatchStatus =
  | "pending" // claimed by a tick, not yet picked up by a dispatcher
  | "sending" // a dispatcher is sending it now (or died doing so: see recovery)
  | "sent" // the provider accepted it (provider_id holds its id)
  | "skipped" // not sent: no subscription, no verified phone, no opt-in (see error)
  | "failed" // the provider refused it (see error)
  | "unknown"; // the dispatcher died mid-send; never sent again, in case it went out

export interface Dispatch {
  id: string;
  user_id: string;
  task_id: string;
  stage: Stage;
  round: number;
  starts_at: Date;
  status: DispatchStatus;
  attempts: number;
}

/** What the user asked for: 1 done, 2 snooze (10 minutes), 3 reschedule. */
export type AckAction = "done" | "snooze" | "reschedule";
export type AckChannel = "push" | "whatsapp" | "call" | "api";

/** What a dispatcher needs to know about the task and its owner to send one stage. */
export interface DispatchContext extends Dispatch {
  title: string;
  timezone: string;
  phone: string | null;
  phone_verified: boolean;
  whatsapp_opted_in: boolean;
  /** The user wrote to us on WhatsApp in the last 24 hours: free-form text is allowed. */
  whatsapp_session_open: boolean;
}

/** The outcome of one send, recorded on the dispatch. */
export type SendResult =
  | { status: "sent"; providerId: string | null }
  | { status: "skipped" | "failed"; error: string };
