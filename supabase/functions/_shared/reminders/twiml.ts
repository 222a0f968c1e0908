// TwiML for the reminder call and the answers to webhooks, and how a reply or a key becomes an
// action: 1 done, 2 snooze (10 minutes), 3 reschedule.
import type { AckAction } from "./types.ts";

const escapeXml = (text: string) =>
  text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );

export const twiml = (inner = "") =>
  `<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>`;
export const say = (text: string) => `<Say>${escapeXml(text)}</Say>`;
export const message = (text: string) => `<Message>${escapeXml(text)}</Message>`;

const MENU = "Press 1 if it is done, 2 to be reminded in 10 minutes, or 3 to reschedule.";

/** The call: the reminder, then one key (5 s to press it), posted to `action` even if none. */
export function reminderCall(title: string, localTime: string, action: string): string {
  return twiml(
    `<Gather input="dtmf" numDigits="1" timeout="5" action="${
      escapeXml(action)
    }" method="POST" actionOnEmptyResult="true">` +
      say(`This is your reminder: ${title}, at ${localTime}. ${MENU}`) +
      `</Gather>`,
  );
}

/** The call again after a key that means nothing. */
export function repeatMenu(action: string): string {
  return twiml(
    `<Gather input="dtmf" numDigits="1" timeout="5" action="${
      escapeXml(action)
    }" method="POST" actionOnEmptyResult="true">` +
      say(`Sorry, I did not get that. ${MENU}`) + `</Gather>`,
  );
}

export function digitAction(digits: string | null): AckAction | null {
  return ({ "1": "done", "2": "snooze", "3": "reschedule" } as const)[digits?.trim() ?? ""] ?? null;
}

/** A WhatsApp reply, read generously: "1", "done", "Done!", "yes" ... */
export function replyAction(body: string): AckAction | "stop" | null {
  const word = body.trim().toLowerCase().replace(/[.!?\s]+$/g, "");
  if (/^(1|done|yes|ok|okay|did it|completed?|✅|👍)$/u.test(word)) return "done";
  if (/^(2|snooze|later|remind me later|not now|⏰)$/u.test(word)) return "snooze";
  if (/^(3|reschedule|move( it)?|another time)$/.test(word)) return "reschedule";
  if (/^(stop|unsubscribe|opt out)$/.test(word)) return "stop";
  return null;
}

/** What the user hears or reads after an action. */
export function confirmation(action: AckAction, snoozeMinutes: number): string {
  if (action === "done") return "Marked as done. Well done!";
  if (action === "snooze") return `OK, I will remind you again in ${snoozeMinutes} minutes.`;
  return "OK. Open Flux to pick a new time for it.";
}

export const HELP = "Reply 1 if it is done, 2 to be reminded in 10 minutes, or 3 to reschedule.";
