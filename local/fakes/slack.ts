/**
 * A fake Slack: OAuth v2 install, the Web API methods Aide calls, per-minute rate rules, and a
 * sender of signed Events API deliveries. Wire formats follow api.slack.com:
 *
 *   GET  /oauth/v2/authorize?client_id&scope&redirect_uri&state[&team]   302 to redirect_uri?code&state
 *   POST /api/oauth.v2.access        code + client credentials (form or Basic) -> bot token
 *   POST /api/auth.test | auth.revoke | users.info | conversations.list | conversations.history |
 *        conversations.replies | chat.postMessage      (Bearer token; form, JSON or query)
 *
 * conversations.history and .replies follow the rule for non-Marketplace apps: at most
 * `requests_per_minute` calls per minute per method and workspace (default 1) and at most
 * `max_limit` messages a page (default 15); past it, 429 with Retry-After.
 *
 * Control (tests):
 *   POST /__fake/teams      {id, name?, users: [{id, name, real_name?, email?}], channels: [{id, name?,
 *                            is_im?, messages: [{ts, user, text, thread_ts?}]}], rate?: {requests_per_minute?,
 *                            window_seconds?, max_limit?}}    creates or replaces a workspace
 *   POST /__fake/deliver    {url, team_id, event | body, event_id?, retries?, retry_delays_ms?,
 *                            signature?: "bad", timestamp?}   posts a signed Events API delivery; when
 *                            Aide answers non-2xx (or `retries` says so) it redelivers with
 *                            X-Slack-Retry-Num, as Slack does; answers the attempts
 *   GET  /__fake/requests?api=&team=    what Slack received (no tokens)
 *   GET  /__fake/tokens?team=           whether each token of a workspace is still valid
 */
import {
  bearer,
  deliver,
  hmacHex,
  json,
  params,
  randomToken,
  RequestLog,
  sleep,
} from "./platform_kit.ts";

export interface SlackFakeOptions {
  clientId: string;
  clientSecret: string;
  signingSecret: string;
}

interface Message {
  ts: string;
  user: string;
  text: string;
  thread_ts?: string;
  reply_count?: number;
}
interface Channel {
  id: string;
  name: string;
  is_im: boolean;
  messages: Message[];
}
interface Team {
  id: string;
  name: string;
  users: { id: string; name: string; real_name?: string; email?: string }[];
  channels: Channel[];
  rate: { requests_per_minute: number; window_seconds: number; max_limit: number };
  /** Accepted calls of the rate-limited methods: method -> times (ms). */
  calls: Map<string, number[]>;
}

const RATE_LIMITED = new Set(["conversations.history", "conversations.replies"]);

export function createSlackHandler(opts: SlackFakeOptions) {
  const teams = new Map<string, Team>();
  const codes = new Map<
    string,
    { team: string; user: string; redirect_uri: string; scope: string }
  >();
  const tokens = new Map<string, { team: string; user: string; revoked: boolean }>();
  const log = new RequestLog();

  const defaultTeam = (id: string): Team => ({
    id,
    name: `Workspace ${id}`,
    users: [{ id: "U0INSTALLER", name: "installer", real_name: "The Installer" }],
    channels: [],
    rate: { requests_per_minute: 1, window_seconds: 60, max_limit: 15 },
    calls: new Map(),
  });
  const team = (id: string) => {
    if (!teams.has(id)) teams.set(id, defaultTeam(id));
    return teams.get(id)!;
  };

  async function api(req: Request, method: string): Promise<Response> {
    const p = await params(req);
    const answer = (body: Record<string, unknown>, status = 200, headers: HeadersInit = {}) => {
      log.add(req, method, { ...p, team: tokenInfo?.team }, status);
      return json(body, status, headers);
    };
    let tokenInfo: { team: string; user: string; revoked: boolean } | undefined;

    if (method === "oauth.v2.access") {
      const basic = req.headers.get("authorization")?.match(/^Basic\s+(\S+)$/i)?.[1];
      const [id, secret] = basic ? atob(basic).split(":") : [p.client_id, p.client_secret];
      if (id !== opts.clientId || secret !== opts.clientSecret) {
        return answer({ ok: false, error: "invalid_client_id" });
      }
      const grant = codes.get(String(p.code));
      codes.delete(String(p.code));
      if (!grant) return answer({ ok: false, error: "invalid_code" });
      if (p.redirect_uri !== undefined && p.redirect_uri !== grant.redirect_uri) {
        return answer({ ok: false, error: "bad_redirect_uri" });
      }
      const t = team(grant.team);
      const token = randomToken("xoxb-fake-");
      tokens.set(token, { team: t.id, user: grant.user, revoked: false });
      tokenInfo = tokens.get(token);
      return answer({
        ok: true,
        access_token: token,
        token_type: "bot",
        scope: grant.scope,
        bot_user_id: "UBOT",
        app_id: "AFAKEAPP",
        team: { id: t.id, name: t.name },
        enterprise: null,
        authed_user: { id: grant.user, scope: "", token_type: "user" },
        is_enterprise_install: false,
      });
    }

    const token = bearer(req) ?? (typeof p.token === "string" ? p.token : null);
    tokenInfo = token ? tokens.get(token) : undefined;
    if (!token) return answer({ ok: false, error: "not_authed" });
    if (!tokenInfo) return answer({ ok: false, error: "invalid_auth" });
    if (tokenInfo.revoked) return answer({ ok: false, error: "token_revoked" });
    const t = team(tokenInfo.team);

    if (RATE_LIMITED.has(method)) {
      const now = Date.now();
      const windowMs = t.rate.window_seconds * 1000;
      const recent = (t.calls.get(method) ?? []).filter((at) => now - at < windowMs);
      if (recent.length >= t.rate.requests_per_minute) {
        const retryAfter = Math.max(1, Math.ceil((recent[0] + windowMs - now) / 1000));
        return answer({ ok: false, error: "ratelimited" }, 429, {
          "retry-after": String(retryAfter),
        });
      }
      recent.push(now);
      t.calls.set(method, recent);
    }

    const channel = t.channels.find((c) => c.id === p.channel);
    const limit = Math.min(
      Number(p.limit ?? 100) || 100,
      RATE_LIMITED.has(method) ? t.rate.max_limit : 1000,
    );
    const page = <T>(items: T[]) => {
      const start = Number(p.cursor ? atob(String(p.cursor)).split(":")[1] : 0);
      const slice = items.slice(start, start + limit);
      const next = start + limit < items.length ? btoa(`next:${start + limit}`) : "";
      return { slice, has_more: !!next, response_metadata: { next_cursor: next } };
    };

    switch (method) {
      case "auth.test":
        return answer({
          ok: true,
          url: `https://${t.id.toLowerCase()}.slack.com/`,
          team: t.name,
          user: "aide",
          team_id: t.id,
          user_id: "UBOT",
          bot_id: "BFAKE",
        });
      case "auth.revoke":
        tokenInfo.revoked = true;
        return answer({ ok: true, revoked: true });
      case "users.info": {
        const u = t.users.find((x) => x.id === p.user);
        if (!u) return answer({ ok: false, error: "user_not_found" });
        return answer({
          ok: true,
          user: {
            id: u.id,
            team_id: t.id,
            name: u.name,
            real_name: u.real_name ?? u.name,
            is_bot: false,
            profile: {
              real_name: u.real_name ?? u.name,
              display_name: u.name,
              ...(u.email ? { email: u.email } : {}),
            },
          },
        });
      }
      case "conversations.list": {
        const { slice, response_metadata } = page(t.channels);
        return answer({
          ok: true,
          channels: slice.map((c) => ({ id: c.id, name: c.name, is_im: c.is_im, is_member: true })),
          response_metadata,
        });
      }
      case "conversations.history": {
        if (!channel) return answer({ ok: false, error: "channel_not_found" });
        const oldest = Number(p.oldest ?? 0);
        const top = channel.messages.filter((m) =>
          (!m.thread_ts || m.thread_ts === m.ts) && Number(m.ts) > oldest
        )
          .sort((a, b) => Number(b.ts) - Number(a.ts));
        const { slice, has_more, response_metadata } = page(top);
        return answer({
          ok: true,
          messages: slice.map((m) => ({ type: "message", ...m })),
          has_more,
          response_metadata,
        });
      }
      case "conversations.replies": {
        if (!channel) return answer({ ok: false, error: "channel_not_found" });
        const replies = channel.messages.filter((m) => m.ts === p.ts || m.thread_ts === p.ts)
          .sort((a, b) => Number(a.ts) - Number(b.ts));
        const { slice, has_more, response_metadata } = page(replies);
        return answer({
          ok: true,
          messages: slice.map((m) => ({ type: "message", ...m })),
          has_more,
          response_metadata,
        });
      }
      case "chat.postMessage": {
        if (!p.channel || !p.text) {
          return answer({ ok: false, error: p.channel ? "no_text" : "channel_not_found" });
        }
        const ts = `${Math.floor(Date.now() / 1000)}.${
          String(Math.floor(Math.random() * 1e6)).padStart(6, "0")
        }`;
        const message = {
          ts,
          user: "UBOT",
          text: String(p.text),
          thread_ts: p.thread_ts ? String(p.thread_ts) : undefined,
        };
        channel?.messages.push(message);
        return answer({
          ok: true,
          channel: p.channel,
          ts,
          message: { type: "message", ...message },
        });
      }
      default:
        return answer({ ok: false, error: "unknown_method" }, 404);
    }
  }

  async function deliverEvent(body: Record<string, unknown>) {
    const envelope = body.body ?? {
      token: "deprecated-verification-token",
      team_id: body.team_id,
      api_app_id: "AFAKEAPP",
      event: body.event,
      type: "event_callback",
      event_id: body.event_id ?? randomToken("Ev", 5),
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: body.team_id, user_id: "UBOT", is_bot: true }],
    };
    const raw = JSON.stringify(envelope);
    const retries = Number(body.retries ?? 3);
    const delays = (body.retry_delays_ms as number[] | undefined) ?? [0, 0, 0];
    const force = Number(body.force_retries ?? 0);
    const attempts = [];
    for (let n = 0; n <= retries; n++) {
      const timestamp = String(body.timestamp ?? Math.floor(Date.now() / 1000));
      const signature = body.signature === "bad"
        ? "v0=" + "0".repeat(64)
        : "v0=" + await hmacHex(opts.signingSecret, `v0:${timestamp}:${raw}`);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": signature,
      };
      if (n > 0) {
        headers["x-slack-retry-num"] = String(n);
        headers["x-slack-retry-reason"] = attempts.at(-1)!.status === 0
          ? "http_timeout"
          : "http_error";
      }
      // Slack waits 3 s for the acknowledgement.
      const result = await deliver(String(body.url), { method: "POST", headers, body: raw }, 3000);
      attempts.push(result);
      const acked = result.status >= 200 && result.status < 300;
      if ((acked && n >= force) || result.status === 401 && n >= force) break;
      if (n < retries) await sleep(delays[n] ?? 0);
    }
    return { event_id: (envelope as Record<string, unknown>).event_id, attempts };
  }

  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === "/oauth/v2/authorize" && req.method === "GET") {
      const q = url.searchParams;
      const redirect = q.get("redirect_uri");
      if (q.get("client_id") !== opts.clientId || !redirect) {
        return new Response("invalid client_id or redirect_uri", { status: 400 });
      }
      const t = team(q.get("team") ?? "T0FAKE");
      const code = randomToken("code-", 12);
      codes.set(code, {
        team: t.id,
        user: t.users[0]?.id ?? "U0INSTALLER",
        redirect_uri: redirect,
        scope: q.get("scope") ?? "",
      });
      const target = new URL(redirect);
      target.searchParams.set("code", code);
      if (q.get("state") !== null) target.searchParams.set("state", q.get("state")!);
      return new Response(null, { status: 302, headers: { location: target.toString() } });
    }
    const apiMethod = path.match(/^\/api\/([\w.]+)$/)?.[1];
    if (apiMethod) return await api(req, apiMethod);

    if (path === "/__fake/teams" && req.method === "POST") {
      const b = await req.json();
      const t: Team = {
        ...defaultTeam(b.id),
        name: b.name ?? `Workspace ${b.id}`,
        users: b.users ?? defaultTeam(b.id).users,
        channels: (b.channels ?? []).map((c: Partial<Channel>) => ({
          id: c.id,
          name: c.name ?? c.id,
          is_im: !!c.is_im,
          messages: c.messages ?? [],
        })),
      };
      t.rate = { ...t.rate, ...(b.rate ?? {}) };
      teams.set(t.id, t);
      return json({ ok: true });
    }
    if (path === "/__fake/deliver" && req.method === "POST") {
      return json(await deliverEvent(await req.json()));
    }
    if (path === "/__fake/requests" && req.method === "GET") {
      const api = url.searchParams.get("api");
      const teamId = url.searchParams.get("team");
      return json(
        log.list((e) => (!api || e.api === api) && (!teamId || e.params.team === teamId)),
      );
    }
    if (path === "/__fake/tokens" && req.method === "GET") {
      const teamId = url.searchParams.get("team");
      return json(
        [...tokens.values()].filter((t) => t.team === teamId).map((t) => ({ revoked: t.revoked })),
      );
    }
    return json({ ok: false, error: "unknown_method" }, 404);
  };
}
