// Telegram, with one bot per project (TELEGRAM_BOT_TOKEN). A user links their Telegram account by
// opening the bot with `/start <code>` (code from POST /connectors/telegram/link, single use, 10
// minutes); from then on their direct messages to the bot, and the chats they share with it
// through Telegram Business (business_connection, business_message, edited_business_message,
// deleted_business_messages), become events. The webhook is authenticated by the secret token
// Telegram echoes in X-Telegram-Bot-Api-Secret-Token (compared in constant time); updates are
// deduplicated on update_id. Telegram keeps no history a bot can read, so there is no backfill.
import { sql } from "../db.ts";
import { log } from "../http.ts";
import { constantTimeEqual } from "../secrets.ts";
import {
  activeAccounts,
  consumeState,
  createState,
  firstDelivery,
  upsertAccount,
} from "./accounts.ts";
import { connectorsUrl, requireConfig } from "./config.ts";
import { deleteEvents, storeEvents } from "./events.ts";
import { platformFetch } from "./platform_fetch.ts";
import {
  type LinkedAccount,
  type NormalizedEvent,
  type PersonRef,
  PlatformError,
} from "./types.ts";

/** The updates Aide asks for (setWebhook's allowed_updates: omitted, Telegram keeps the old list). */
export const TELEGRAM_UPDATES = [
  "message",
  "edited_message",
  "business_connection",
  "business_message",
  "edited_business_message",
  "deleted_business_messages",
];

// deno-lint-ignore no-explicit-any
type Tg = Record<string, any>;

async function botApi(method: string, params: Record<string, unknown>): Promise<Tg> {
  const config = requireConfig("telegram");
  const { status, body } = await platformFetch<Tg>(
    "telegram",
    `${config.apiUrl}/bot${config.botToken}/${method}`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(params),
    },
  );
  if (!body?.ok) {
    throw new PlatformError(
      "telegram",
      status,
      String(body?.error_code ?? status),
      `Telegram ${method}: ${body?.description ?? status}`,
    );
  }
  return body.result;
}

let botUsername: string | undefined;
async function username(): Promise<string> {
  botUsername ??= requireConfig("telegram").botUsername ?? (await botApi("getMe", {})).username;
  return botUsername!;
}

/** A link code for the caller and the t.me URL that sends `/start <code>` to the bot. */
export async function createLinkCode(userId: string) {
  const code = await createState(userId, "telegram_link");
  return { code, url: `https://t.me/${await username()}?start=${code}` };
}

export async function verifyTelegramSecret(headers: Headers): Promise<boolean> {
  const given = headers.get("x-telegram-bot-api-secret-token") ?? "";
  return given !== "" && await constantTimeEqual(given, requireConfig("telegram").webhookSecret);
}

/** setWebhook with the secret and an explicit allowed_updates (admin route). */
export async function configureTelegramWebhook() {
  const config = requireConfig("telegram");
  const url = `${connectorsUrl()}/telegram/webhook`;
  await botApi("setWebhook", {
    url,
    secret_token: config.webhookSecret,
    allowed_updates: TELEGRAM_UPDATES,
  });
  const info = await botApi("getWebhookInfo", {});
  return { url: info.url as string, allowed_updates: (info.allowed_updates ?? []) as string[] };
}

/** Handles one update; false when it was a redelivery. */
export async function handleTelegramUpdate(update: Tg): Promise<boolean> {
  if (!(await firstDelivery("telegram", String(update.update_id)))) return false;
  if (update.message ?? update.edited_message) {
    await directMessage(update.message ?? update.edited_message);
  } else if (update.business_connection) {
    await businessConnection(update.business_connection);
  } else if (update.business_message ?? update.edited_business_message) {
    await businessMessage(update.business_message ?? update.edited_business_message);
  } else if (update.deleted_business_messages) {
    const d = update.deleted_business_messages;
    const account = await accountForConnection(d.business_connection_id);
    if (account) {
      await deleteEvents(account, (d.message_ids ?? []).map((id: number) => `${d.chat.id}:${id}`));
    }
  }
  return true;
}

const person = (u: Tg | undefined): PersonRef | null =>
  u
    ? {
      platformId: `telegram:${u.id}`,
      name: [u.first_name, u.last_name].filter(Boolean).join(" ") || u.username || null,
      handle: u.username ?? null,
    }
    : null;

async function directMessage(m: Tg) {
  if (m.chat?.type !== "private" || !m.from) return;
  const start = typeof m.text === "string"
    ? m.text.match(/^\/start(?:@\w+)?\s+([A-Za-z0-9_-]{16,64})\s*$/)
    : null;
  if (start) {
    const state = await consumeState(start[1], "telegram_link");
    if (!state) {
      await reply(m.chat.id, "This link has expired or was already used. Ask Aide for a new one.");
      return;
    }
    await upsertAccount(sql, {
      userId: state.user_id,
      provider: "telegram",
      providerAccountId: String(m.from.id),
      metadata: {
        username: m.from.username ?? null,
        name: person(m.from)?.name,
        chat_id: m.chat.id,
      },
    });
    await reply(
      m.chat.id,
      "Linked to Aide. Your messages here, and chats you share with this bot through Telegram Business, reach your inbox.",
    );
    return;
  }
  for (const account of await activeAccounts("telegram", String(m.from.id))) {
    await storeEvents(account, [normalize(account, m, { directMessage: true })]);
  }
}

async function businessConnection(c: Tg) {
  const [account] = await activeAccounts("telegram", String(c.user?.id));
  if (!account) {
    log("info", "telegram business connection for an unlinked user", { connection: "ignored" });
    return;
  }
  await sql`
    insert into private.telegram_business_connections (id, linked_account_id, user_chat_id, is_enabled, can_reply)
    values (${c.id}, ${account.id}, ${c.user_chat_id ?? null}, ${c.is_enabled !== false}, ${
    !!c.rights?.can_reply || !!c.can_reply
  })
    on conflict (id) do update set is_enabled = excluded.is_enabled, can_reply = excluded.can_reply,
      user_chat_id = excluded.user_chat_id, updated_at = now()`;
}

async function accountForConnection(id: string | undefined): Promise<LinkedAccount | null> {
  if (!id) return null;
  const [account] = await sql<LinkedAccount[]>`
    select a.* from private.telegram_business_connections c
    join public.linked_accounts a on a.id = c.linked_account_id
    where c.id = ${id} and c.is_enabled and a.status = 'active'`;
  return account ?? null;
}

async function businessMessage(m: Tg) {
  const account = await accountForConnection(m.business_connection_id);
  if (!account) return;
  const fromUser = String(m.from?.id) === account.provider_account_id;
  await storeEvents(account, [
    normalize(account, m, { directMessage: m.chat?.type === "private", fromUser }),
  ]);
}

function normalize(
  account: LinkedAccount,
  m: Tg,
  signals: NormalizedEvent["signals"],
): NormalizedEvent {
  const text = m.text ?? m.caption ?? "";
  const chatName = m.chat?.title ??
    [m.chat?.first_name, m.chat?.last_name].filter(Boolean).join(" ");
  return {
    externalId: `${m.chat.id}:${m.message_id}`,
    eventType: "message",
    thread: { externalId: String(m.chat.id), subject: chatName || null },
    body: text,
    url: m.chat?.username ? `https://t.me/${m.chat.username}/${m.message_id}` : null,
    sender: person(m.from),
    occurredAt: new Date(Number(m.edit_date ?? m.date) * 1000),
    signals: {
      ...signals,
      mentionsUser: !!account.metadata.username && text.includes(`@${account.metadata.username}`),
    },
    raw: m,
  };
}

async function reply(chatId: number, text: string) {
  await botApi("sendMessage", { chat_id: chatId, text }).catch((e) =>
    log("warn", "telegram sendMessage failed", { error: String(e.message) })
  );
}

/** Sends as the bot; through the user's Business connection when the chat came from one. */
export async function sendTelegramMessage(
  _account: LinkedAccount, // one bot for every account; the parameter keeps the senders alike
  target: { chatId: string; businessConnectionId?: string | null },
  text: string,
): Promise<{ externalId: string }> {
  const sent = await botApi("sendMessage", {
    chat_id: target.chatId,
    text,
    ...(target.businessConnectionId ? { business_connection_id: target.businessConnectionId } : {}),
  });
  return { externalId: `${target.chatId}:${sent.message_id}` };
}
