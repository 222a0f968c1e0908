// Sending what the tick claimed. The reminders function receives a batch of notification_log ids
// (posted by the tick through pg_net), takes them (pending -> sending: a send is taken by one
// dispatcher only) and sends each on its channel:
//
//   push      every browser subscription of the user; 404/410 deletes the subscription
//   whatsapp  free-form text inside the user's 24-hour window, else the approved template
//   call      inline TwiML: the reminder and a one-key menu, answered at /reminders/twilio/voice
//   missed    no send: the task becomes missed
//
// Policy: a send is attempted once. A provider that refuses (or cannot be reached) makes the send
// failed, and the chain goes on to the next stage at its time; a send is never retried, because
// a retry after an ambiguous failure could reach the user twice. Sends run DISPATCH_CONCURRENCY
// at a time.
import { log } from "../http.ts";
import {
  deletePushSubscription,
  markMissed,
  pushTargets,
  recordResult,
  type SubscriptionRow,
  takeDispatches,
} from "./chain.ts";
import { type PushOutcome, sendPush, vapidConfig } from "./push.ts";
import { signAck } from "./ack.ts";
import { reminderCall } from "./twiml.ts";
import { createCall, sendWhatsApp, twilioConfig, TwilioError } from "./twilio.ts";
import type { DispatchContext, SendResult } from "./types.ts";
import { webhookUrl } from "./webhook.ts";

const DISPATCH_CONCURRENCY = 16;

/** The task's start as the user reads it, e.g. "09:00" (in the task's or the user's zone). */
export function localTime(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit" }).format(
    at,
  );
}

/** A send's outcome, and the push subscriptions it reached. */
type Outcome = { result: SendResult; used?: string[] };

async function sendPushStage(d: DispatchContext, targets: SubscriptionRow[]): Promise<Outcome> {
  const cfg = vapidConfig();
  if (!cfg) {
    return { result: { status: "skipped", error: "Web Push is not configured (VAPID keys)" } };
  }
  if (targets.length === 0) return { result: { status: "skipped", error: "no push subscription" } };
  const payload = {
    type: "reminder",
    task_id: d.task_id,
    dispatch_id: d.id,
    title: d.title,
    body: `Starts at ${localTime(d.starts_at, d.timezone)}`,
    starts_at: d.starts_at.toISOString(),
    actions: [{ action: "done", title: "Done" }, { action: "snooze", title: "Snooze 10 min" }],
    // The service worker posts {dispatch_id, token, action} here; no user token needed.
    ack_url: webhookUrl("/reminders/ack"),
    ack_token: await signAck(d.id),
  };
  const ttlSeconds = Math.max(60, Math.round((d.starts_at.getTime() - Date.now()) / 1000) + 3600);
  const outcomes: PushOutcome[] = [];
  const used: string[] = [];
  for (const target of targets) {
    const outcome = await sendPush(cfg, target, payload, {
      ttlSeconds,
      topic: d.task_id.replace(/-/g, ""),
    });
    outcomes.push(outcome);
    if (outcome.status === "gone") await deletePushSubscription(target.id);
    if (outcome.status === "sent") used.push(target.id);
  }
  const sent = outcomes.find((o) => o.status === "sent");
  if (sent) return { result: { status: "sent", providerId: sent.location }, used };
  if (outcomes.every((o) => o.status === "gone")) {
    return {
      result: { status: "skipped", error: "every push subscription has expired (deleted)" },
    };
  }
  const errors = outcomes.map((o) => o.status === "failed" ? o.error : o.status).join("; ");
  return { result: { status: "failed", error: errors } };
}

async function sendTwilioStage(d: DispatchContext): Promise<SendResult> {
  const cfg = twilioConfig();
  if (!cfg) return { status: "skipped", error: "Twilio is not configured" };
  if (!d.phone || !d.phone_verified) return { status: "skipped", error: "no verified phone" };
  const statusCallback = webhookUrl(`/reminders/twilio/status?dispatch=${d.id}`);
  const at = localTime(d.starts_at, d.timezone);
  try {
    if (d.stage === "whatsapp") {
      if (!d.whatsapp_opted_in) return { status: "skipped", error: "no WhatsApp opt-in" };
      const sent = await sendWhatsApp(cfg, {
        to: d.phone,
        ...(d.whatsapp_session_open
          ? {
            body:
              `Reminder: ${d.title} at ${at}. Reply 1 if it is done, 2 to snooze 10 minutes, 3 to reschedule.`,
          }
          : { variables: { "1": d.title, "2": at } }),
        statusCallback,
      });
      return { status: "sent", providerId: sent.sid };
    }
    const action = webhookUrl(`/reminders/twilio/voice?dispatch=${d.id}`);
    const call = await createCall(cfg, {
      to: d.phone,
      twiml: reminderCall(d.title, at, action),
      statusCallback,
    });
    return { status: "sent", providerId: call.sid };
  } catch (e) {
    if (e instanceof TwilioError) {
      return {
        status: "failed",
        error: `Twilio ${e.status}${e.code ? ` error ${e.code}` : ""}: ${e.message}`,
      };
    }
    throw e;
  }
}

async function sendOne(
  d: DispatchContext,
  targets: Map<string, SubscriptionRow[]>,
): Promise<Outcome> {
  switch (d.stage) {
    case "push":
      return await sendPushStage(d, targets.get(d.user_id) ?? []);
    case "whatsapp":
    case "call":
      return { result: await sendTwilioStage(d) };
    case "missed":
      return {
        result: (await markMissed(d.task_id))
          ? { status: "sent", providerId: null }
          : { status: "skipped", error: "the task was no longer open" },
      };
  }
}

/** Sends the given pending sends; returns how many of each outcome. */
export async function dispatch(ids: string[]): Promise<Record<string, number>> {
  const taken = await takeDispatches(ids);
  const targets = await pushTargets([
    ...new Set(taken.filter((d) => d.stage === "push").map((d) => d.user_id)),
  ]);
  const counts: Record<string, number> = { taken: taken.length };
  let next = 0;
  const worker = async () => {
    while (next < taken.length) {
      const d = taken[next++];
      let outcome: Outcome;
      try {
        outcome = await sendOne(d, targets);
      } catch (e) {
        outcome = {
          result: {
            status: "failed",
            error: `dispatch error: ${e instanceof Error ? e.message : e}`,
          },
        };
        log("error", "reminder dispatch failed", {
          dispatch_id: d.id,
          stage: d.stage,
          error: String(e),
        });
      }
      await recordResult(d.id, outcome.result, outcome.used);
      counts[outcome.result.status] = (counts[outcome.result.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(DISPATCH_CONCURRENCY, taken.length) }, worker));
  return counts;
}
