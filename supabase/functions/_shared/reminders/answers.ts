// What the user's answers do: a WhatsApp reply, a key pressed in the reminder call, a push
// notification's action button. Each becomes an acknowledgement of the task's chain (see
// private.acknowledge_reminder) and an answer in TwiML or JSON. Twilio's requests arrive
// verified (webhook.ts); a message from a number no account has verified is acknowledged and
// ignored.
import {
  acknowledge,
  dispatchById,
  noteInboundWhatsApp,
  optOutWhatsApp,
  recordDeliveryStatus,
  snoozeMinutes,
  taskAwaitingAnswer,
  userByVerifiedPhone,
} from "./chain.ts";
import {
  confirmation,
  digitAction,
  HELP,
  message,
  repeatMenu,
  replyAction,
  say,
  twiml,
} from "./twiml.ts";
import type { AckAction } from "./types.ts";
import { webhookUrl } from "./webhook.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** POST /reminders/twilio/whatsapp: the user wrote to our WhatsApp sender. */
export async function whatsappReply(form: URLSearchParams): Promise<string> {
  const phone = (form.get("From") ?? "").replace(/^whatsapp:/, "");
  const user = await userByVerifiedPhone(phone);
  if (!user) return twiml(); // not one of ours: acknowledged, ignored
  await noteInboundWhatsApp(user.id);
  const action = replyAction(form.get("Body") ?? "");
  if (action === "stop") {
    await optOutWhatsApp(user.id);
    return twiml(message("You will get no more WhatsApp reminders. Opt in again in the app."));
  }
  const taskId = await taskAwaitingAnswer(user.id);
  if (!taskId) return twiml(message("No reminder is waiting for an answer right now."));
  if (!action) return twiml(message(HELP));
  return twiml(message(await answer(taskId, action, "whatsapp")));
}

async function answer(taskId: string, action: AckAction, channel: "whatsapp" | "call" | "push") {
  const result = await acknowledge(taskId, action, channel);
  if (result !== "ok") return "This task is already closed.";
  return confirmation(action, await snoozeMinutes());
}

/** POST /reminders/twilio/voice?dispatch=<id>: the Gather of a reminder call. */
export async function voiceGather(
  dispatchId: string | null,
  form: URLSearchParams,
): Promise<string> {
  const d = dispatchId && UUID.test(dispatchId) ? await dispatchById(dispatchId) : null;
  const callSid = form.get("CallSid") ?? "";
  if (!d || d.stage !== "call" || (d.provider_id && d.provider_id !== callSid)) {
    return twiml(say("Goodbye.") + "<Hangup/>");
  }
  const digits = form.get("Digits");
  const action = digitAction(digits);
  if (!digits) {
    return twiml(say("No key pressed. I will check on it later. Goodbye.") + "<Hangup/>");
  }
  if (!action) return repeatMenu(webhookUrl(`/reminders/twilio/voice?dispatch=${d.id}`));
  return twiml(say(await answer(d.task_id, action, "call")) + "<Hangup/>");
}

/** POST /reminders/twilio/status?dispatch=<id>: a message's or call's status changed. */
export async function statusCallback(
  dispatchId: string | null,
  form: URLSearchParams,
): Promise<void> {
  if (!dispatchId || !UUID.test(dispatchId)) return;
  const sid = form.get("MessageSid") ?? form.get("CallSid");
  const status = form.get("MessageStatus") ?? form.get("CallStatus");
  if (!sid || !status) return;
  await recordDeliveryStatus(dispatchId, sid, status, form.get("ErrorCode"));
}

/** POST /reminders/ack: a push notification's action button (the token proves the push). */
export async function pushAction<A extends AckAction>(dispatchId: string, action: A) {
  const d = await dispatchById(dispatchId);
  if (!d) return null;
  const result = await acknowledge(d.task_id, action, "push");
  return { task_id: d.task_id, action, result };
}
