/**
 * A fake Telegram Bot API for one bot (the token the stack generated):
 *
 *   GET|POST /bot<token>/<method>   setWebhook, deleteWebhook, getWebhookInfo, getMe, sendMessage,
 *                                    getBusinessConnection; answers {ok, result} or
 *                                    {ok: false, error_code, description} like the real API
 *
 * Control (tests):
 *   POST /__fake/update     {update, secret?}   posts the update (update_id filled in when missing) to
 *                           the webhook with X-Telegram-Bot-Api-Secret-Token (or the given `secret`),
 *                           if its type is in allowed_updates; answers Aide's status
 *   POST /__fake/business_connections  {id, user, user_chat_id, is_enabled?, rights?}
 *   GET  /__fake/requests?api=          what the bot API received (no token)
 */
import { deliver, json, params, RequestLog } from "./platform_kit.ts";

export interface TelegramFakeOptions {
  botToken: string;
}

const ALL_UPDATES = [
  "message",
  "edited_message",
  "channel_post",
  "edited_channel_post",
  "business_connection",
  "business_message",
  "edited_business_message",
  "deleted_business_messages",
  "callback_query",
  "my_chat_member",
];
// Telegram's default when allowed_updates was never given: everything but these.
const NOT_BY_DEFAULT = new Set(["chat_member", "message_reaction", "message_reaction_count"]);

export function createTelegramHandler(opts: TelegramFakeOptions) {
  const log = new RequestLog();
  let webhook: { url: string; secret_token?: string; allowed_updates: string[] } | null = null;
  const connections = new Map<string, Record<string, unknown>>();
  let nextUpdateId = 100_000;
  let nextMessageId = 1;

  const ok = (result: unknown) => json({ ok: true, result });
  const fail = (code: number, description: string) =>
    json({ ok: false, error_code: code, description }, code);

  async function method(req: Request, name: string): Promise<Response> {
    const p = await params(req);
    const done = (res: Response) => {
      log.add(req, name, p, res.status);
      return res;
    };
    switch (name) {
      case "getMe":
        return done(ok({
          id: 7000001,
          is_bot: true,
          first_name: "Aide",
          username: "aide_fake_bot",
          can_connect_to_business: true,
        }));
      case "setWebhook": {
        const url = String(p.url ?? "");
        const secret = p.secret_token === undefined ? undefined : String(p.secret_token);
        if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
          return done(fail(400, "Bad Request: secret token contains unallowed characters"));
        }
        if (url && !/^https?:\/\//.test(url)) {
          return done(fail(400, "Bad Request: invalid webhook URL specified"));
        }
        const allowed = typeof p.allowed_updates === "string"
          ? JSON.parse(p.allowed_updates)
          : p.allowed_updates;
        webhook = url
          ? {
            url,
            secret_token: secret,
            allowed_updates: Array.isArray(allowed) ? allowed : webhook?.allowed_updates ?? [],
          }
          : null;
        return done(ok(true));
      }
      case "deleteWebhook":
        webhook = null;
        return done(ok(true));
      case "getWebhookInfo":
        return done(ok({
          url: webhook?.url ?? "",
          has_custom_certificate: false,
          pending_update_count: 0,
          ...(webhook?.allowed_updates.length ? { allowed_updates: webhook.allowed_updates } : {}),
        }));
      case "sendMessage": {
        if (!p.chat_id) return done(fail(400, "Bad Request: chat_id is empty"));
        if (!p.text) return done(fail(400, "Bad Request: message text is empty"));
        if (p.business_connection_id !== undefined) {
          const c = connections.get(String(p.business_connection_id));
          if (!c) return done(fail(400, "Bad Request: BUSINESS_CONNECTION_INVALID"));
          if (c.is_enabled === false) {
            return done(fail(403, "Forbidden: business connection is disabled"));
          }
        }
        return done(ok({
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: Number(p.chat_id), type: "private" },
          text: String(p.text),
          ...(p.business_connection_id ? { business_connection_id: p.business_connection_id } : {}),
        }));
      }
      case "getBusinessConnection": {
        const c = connections.get(String(p.business_connection_id));
        return done(c ? ok(c) : fail(400, "Bad Request: BUSINESS_CONNECTION_INVALID"));
      }
      default:
        return done(fail(404, "Not Found: method not found"));
    }
  }

  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const m = url.pathname.match(/^\/bot([^/]+)\/(\w+)$/);
    if (m) {
      if (m[1] !== opts.botToken) {
        log.add(req, m[2], {}, 401);
        return fail(401, "Unauthorized");
      }
      return await method(req, m[2]);
    }
    if (url.pathname === "/__fake/update" && req.method === "POST") {
      const b = await req.json();
      if (!webhook) return json({ status: 0, error: "no webhook set" });
      const update = { update_id: nextUpdateId++, ...b.update };
      const type = Object.keys(update).find((k) => k !== "update_id")!;
      const allowed = webhook.allowed_updates.length
        ? webhook.allowed_updates
        : ALL_UPDATES.filter((u) => !NOT_BY_DEFAULT.has(u));
      if (!allowed.includes(type)) {
        return json({
          status: 0,
          skipped: `${type} is not in allowed_updates`,
          update_id: update.update_id,
        });
      }
      if (update.business_connection) {
        connections.set(update.business_connection.id, update.business_connection);
      }
      const headers: Record<string, string> = { "content-type": "application/json" };
      const secret = b.secret === undefined ? webhook.secret_token : b.secret;
      if (secret !== null && secret !== undefined) {
        headers["x-telegram-bot-api-secret-token"] = secret;
      }
      const result = await deliver(webhook.url, {
        method: "POST",
        headers,
        body: JSON.stringify(update),
      });
      return json({ ...result, update_id: update.update_id });
    }
    if (url.pathname === "/__fake/business_connections" && req.method === "POST") {
      const b = await req.json();
      connections.set(b.id, {
        is_enabled: true,
        date: Math.floor(Date.now() / 1000),
        rights: { can_reply: true },
        ...b,
      });
      return json({ ok: true });
    }
    if (url.pathname === "/__fake/webhook" && req.method === "GET") {
      return json(
        webhook
          ? {
            url: webhook.url,
            allowed_updates: webhook.allowed_updates,
            has_secret: !!webhook.secret_token,
          }
          : null,
      );
    }
    if (url.pathname === "/__fake/requests" && req.method === "GET") {
      const api = url.searchParams.get("api");
      return json(log.list((e) => !api || e.api === api));
    }
    return fail(404, "Not Found");
  };
}
