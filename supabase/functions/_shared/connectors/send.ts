// Sending a reply to an event through the connector it came from, for the inbox's drafts
// (POST /drafts/:id/send): Slack chat.postMessage in the event's thread, a Graph reply to the
// mail, Telegram sendMessage in the chat (through the Business connection the message came
// from, when it came from one). The caller decides when (only on the user's explicit request)
// and keeps sends idempotent; this refuses events of accounts that are not active.
import { sql } from "../db.ts";
import { ApiError } from "../http.ts";
import { accountById } from "./accounts.ts";
import { replyOutlook } from "./microsoft.ts";
import { postSlackMessage } from "./slack.ts";
import { sendTelegramMessage } from "./telegram.ts";
import type { Provider } from "./types.ts";

export interface SentReply {
  provider: Provider;
  linked_account_id: string;
  /** The platform's id of what was sent (Slack `<channel>:<ts>`, Telegram `<chat>:<message>`); Graph's reply returns none. */
  external_id: string | null;
}

interface EventRow {
  id: string;
  user_id: string;
  source: string;
  source_account_id: string | null;
  external_id: string;
  thread_external_id: string | null;
  business_connection_id: string | null;
}

/** Replies to event `eventId` of user `userId` with `text`. */
export async function sendReply(userId: string, eventId: string, text: string): Promise<SentReply> {
  const [event] = await sql<EventRow[]>`
    select e.id, e.user_id, e.source, e.source_account_id, e.external_id, t.external_id as thread_external_id,
           e.raw ->> 'business_connection_id' as business_connection_id
    from public.events e left join public.threads t on t.id = e.thread_id
    where e.id = ${eventId} and e.user_id = ${userId}`;
  if (!event) throw new ApiError(404, "not_found", "No such event");
  const account = event.source_account_id ? await accountById(event.source_account_id) : null;
  if (!account || account.user_id !== userId) {
    throw new ApiError(409, "no_connector", "The event's account is no longer connected");
  }
  if (account.status !== "active") {
    throw new ApiError(
      409,
      "account_revoked",
      `The ${account.provider} account is ${account.status}; reconnect it to send`,
    );
  }
  const sent = { provider: account.provider, linked_account_id: account.id };
  const [chat, messageTs] = splitOnce(event.external_id);
  switch (account.provider) {
    case "slack": {
      const threadTs = event.thread_external_id
        ? splitOnce(event.thread_external_id)[1]
        : messageTs;
      const r = await postSlackMessage(account, { channel: chat, threadTs }, text);
      return { ...sent, external_id: r.externalId };
    }
    case "outlook":
      return {
        ...sent,
        external_id: (await replyOutlook(account, event.external_id, text)).externalId,
      };
    case "telegram": {
      const r = await sendTelegramMessage(account, {
        chatId: chat,
        businessConnectionId: event.business_connection_id,
      }, text);
      return { ...sent, external_id: r.externalId };
    }
  }
}

/** "C1:1700.01" -> ["C1", "1700.01"] (Slack ts and Telegram ids hold no colon). */
function splitOnce(id: string): [string, string] {
  const at = id.lastIndexOf(":");
  return at < 0 ? [id, ""] : [id.slice(0, at), id.slice(at + 1)];
}
