/**
 * A fake Microsoft identity platform and Graph (mail), speaking their wire formats:
 *
 *   GET  /{tenant}/oauth2/v2.0/authorize   302 to redirect_uri?code&state (code bound to the PKCE challenge)
 *   POST /{tenant}/oauth2/v2.0/token       authorization_code (client secret + code_verifier, S256
 *        checked) or refresh_token; every refresh returns a new refresh token and retires the old
 *        one (reusing it: 400 invalid_grant), as Microsoft does
 *   GET  /v1.0/me
 *   POST /v1.0/subscriptions               validates notificationUrl and lifecycleNotificationUrl
 *        first (POST ?validationToken=..., 200 text/plain echo within 10 s), else 400
 *   PATCH/DELETE /v1.0/subscriptions/{id}
 *   GET  /v1.0/me/messages/{id}
 *   GET  /v1.0/me/mailFolders/{folder}/messages/delta   pages (Prefer: odata.maxpagesize) with
 *        @odata.nextLink and a final @odata.deltaLink; 410 when a test asks for it
 *   POST /v1.0/me/messages/{id}/reply      {comment}: recorded
 *
 * Access tokens are opaque (`eyJ...fake`); each mailbox is a Microsoft user with its own messages.
 *
 * Control (tests):
 *   POST /__fake/mailboxes  {id, mail, displayName?, messages?: [graph message]}   creates or replaces
 *   POST /__fake/messages   {mailbox, message}  adds a message (id, receivedDateTime filled in)
 *   POST /__fake/notify     {mailbox, message_id?, lifecycle_event?, client_state?}  posts a change or
 *                           lifecycle notification to the mailbox's subscription; answers Aide's status
 *   POST /__fake/delta_gone {mailbox}           the next delta request of that mailbox answers 410
 *   POST /__fake/expire     {mailbox}           the mailbox's access tokens stop working (401)
 *   GET  /__fake/state?mailbox=     subscriptions, refresh counts, valid refresh tokens (count only)
 *   GET  /__fake/requests?api=&mailbox=
 */
import {
  bearer,
  deliver,
  json,
  params,
  randomToken,
  RequestLog,
  sha256Base64Url,
} from "./platform_kit.ts";

export interface MicrosoftFakeOptions {
  clientId: string;
  clientSecret: string;
}

interface GraphMessage {
  id: string;
  subject?: string;
  bodyPreview?: string;
  body?: { contentType: string; content: string };
  from?: { emailAddress: { name?: string; address: string } };
  toRecipients?: { emailAddress: { name?: string; address: string } }[];
  ccRecipients?: { emailAddress: { name?: string; address: string } }[];
  receivedDateTime?: string;
  conversationId?: string;
  webLink?: string;
  isRead?: boolean;
  "@removed"?: { reason: string };
}

interface Mailbox {
  id: string;
  mail: string;
  displayName: string;
  messages: GraphMessage[];
  deltaGone: boolean;
  refreshCount: number;
}

interface Subscription {
  id: string;
  mailbox: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl?: string;
  clientState?: string;
  expirationDateTime: string;
}

export function createMicrosoftHandler(opts: MicrosoftFakeOptions) {
  const mailboxes = new Map<string, Mailbox>();
  const codes = new Map<
    string,
    { mailbox: string; redirect_uri: string; challenge?: string; method?: string; scope: string }
  >();
  const access = new Map<string, { mailbox: string; expires: number; revoked: boolean }>();
  const refresh = new Map<string, { mailbox: string; scope: string; used: boolean }>();
  const subscriptions = new Map<string, Subscription>();
  const log = new RequestLog();

  const mailbox = (id: string) => {
    if (!mailboxes.has(id)) {
      mailboxes.set(id, {
        id,
        mail: `${id}@contoso.test`,
        displayName: id,
        messages: [],
        deltaGone: false,
        refreshCount: 0,
      });
    }
    return mailboxes.get(id)!;
  };

  const graphError = (status: number, code: string, message: string) =>
    json({ error: { code, message } }, status);
  const oauthError = (error: string, description: string) =>
    json({ error, error_description: description, error_codes: [70008] }, 400);

  function issue(mailboxId: string, scope: string) {
    const accessToken = `eyJ0eXAiOiJKV1QifQ.${randomToken("", 16)}.fake`;
    const refreshToken = `M.R3_${randomToken("", 20)}`;
    access.set(accessToken, { mailbox: mailboxId, expires: Date.now() + 3600_000, revoked: false });
    refresh.set(refreshToken, { mailbox: mailboxId, scope, used: false });
    return {
      token_type: "Bearer",
      scope,
      expires_in: 3600,
      ext_expires_in: 3600,
      access_token: accessToken,
      refresh_token: refreshToken,
    };
  }

  async function token(req: Request): Promise<Response> {
    const p = await params(req);
    const done = (res: Response) => {
      log.add(req, `token:${p.grant_type}`, { ...p }, res.status);
      return res;
    };
    if (p.client_id !== opts.clientId) {
      return done(oauthError("invalid_client", "AADSTS700016: unknown client"));
    }
    if (p.client_secret !== opts.clientSecret) {
      return done(oauthError("invalid_client", "AADSTS7000215: invalid client secret"));
    }
    if (p.grant_type === "authorization_code") {
      const grant = codes.get(String(p.code));
      codes.delete(String(p.code));
      if (!grant) {
        return done(oauthError("invalid_grant", "AADSTS70008: the code is invalid or expired"));
      }
      if (grant.redirect_uri !== p.redirect_uri) {
        return done(oauthError("invalid_grant", "AADSTS50011: redirect_uri mismatch"));
      }
      if (grant.challenge) {
        const verifier = String(p.code_verifier ?? "");
        const computed = grant.method === "S256" ? await sha256Base64Url(verifier) : verifier;
        if (!verifier || computed !== grant.challenge) {
          return done(
            oauthError(
              "invalid_grant",
              "AADSTS501481: the code_verifier does not match the code_challenge",
            ),
          );
        }
      }
      return done(json(issue(grant.mailbox, grant.scope)));
    }
    if (p.grant_type === "refresh_token") {
      const r = refresh.get(String(p.refresh_token));
      if (!r || r.used) {
        return done(
          oauthError("invalid_grant", "AADSTS70000: the refresh token was already used or revoked"),
        );
      }
      r.used = true;
      mailbox(r.mailbox).refreshCount++;
      return done(json(issue(r.mailbox, r.scope)));
    }
    return done(oauthError("unsupported_grant_type", "grant_type"));
  }

  async function validate(url: string) {
    const validationToken = randomToken("Validation: ", 8);
    const result = await deliver(
      `${url}${url.includes("?") ? "&" : "?"}validationToken=${
        encodeURIComponent(validationToken)
      }`,
      {
        method: "POST",
        headers: { "content-type": "text/plain; charset=utf-8" },
      },
      10_000,
    );
    return result.status === 200 && result.body === validationToken;
  }

  async function graph(req: Request, path: string): Promise<Response> {
    const t = access.get(bearer(req) ?? "");
    const p = req.method === "GET" || req.method === "DELETE" ? {} : await params(req);
    const done = (api: string, res: Response) => {
      log.add(req, api, { ...p, mailbox: t?.mailbox }, res.status);
      return res;
    };
    if (!t || t.revoked || t.expires < Date.now()) {
      return done(
        `${req.method} ${path}`,
        graphError(
          401,
          "InvalidAuthenticationToken",
          "Access token has expired or is not yet valid.",
        ),
      );
    }
    const box = mailbox(t.mailbox);
    if (path === "/me" && req.method === "GET") {
      return done(
        "GET /me",
        json({
          id: box.id,
          displayName: box.displayName,
          mail: box.mail,
          userPrincipalName: box.mail,
        }),
      );
    }
    if (path === "/subscriptions" && req.method === "POST") {
      const body = p as Record<string, string>;
      if (!body.notificationUrl || !body.resource || !body.expirationDateTime) {
        return done(
          "POST /subscriptions",
          graphError(
            400,
            "InvalidRequest",
            "notificationUrl, resource and expirationDateTime are required",
          ),
        );
      }
      if ((body.clientState ?? "").length > 128) {
        return done(
          "POST /subscriptions",
          graphError(400, "InvalidRequest", "clientState is longer than 128 characters"),
        );
      }
      if (!(await validate(body.notificationUrl))) {
        return done(
          "POST /subscriptions",
          graphError(
            400,
            "ValidationError",
            "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
          ),
        );
      }
      if (body.lifecycleNotificationUrl && !(await validate(body.lifecycleNotificationUrl))) {
        return done(
          "POST /subscriptions",
          graphError(
            400,
            "ValidationError",
            "Subscription validation request failed for the lifecycle notification URL.",
          ),
        );
      }
      const sub: Subscription = {
        id: crypto.randomUUID(),
        mailbox: box.id,
        resource: body.resource,
        changeType: body.changeType ?? "created",
        notificationUrl: body.notificationUrl,
        lifecycleNotificationUrl: body.lifecycleNotificationUrl,
        clientState: body.clientState,
        expirationDateTime: body.expirationDateTime,
      };
      subscriptions.set(sub.id, sub);
      const { mailbox: _m, ...shown } = sub;
      return done(
        "POST /subscriptions",
        json({
          "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
          ...shown,
          clientState: null,
        }, 201),
      );
    }
    const subMatch = path.match(/^\/subscriptions\/([\w-]+)$/);
    if (subMatch) {
      const sub = subscriptions.get(subMatch[1]);
      if (!sub || sub.mailbox !== box.id) {
        return done(
          `${req.method} /subscriptions/{id}`,
          graphError(404, "ResourceNotFound", "subscription not found"),
        );
      }
      if (req.method === "PATCH") {
        sub.expirationDateTime = String(
          (p as Record<string, unknown>).expirationDateTime ?? sub.expirationDateTime,
        );
        const { mailbox: _m, ...shown } = sub;
        return done("PATCH /subscriptions/{id}", json({ ...shown, clientState: null }));
      }
      if (req.method === "DELETE") {
        subscriptions.delete(sub.id);
        return done("DELETE /subscriptions/{id}", new Response(null, { status: 204 }));
      }
    }
    const msg = path.match(/^\/me\/messages\/([^/]+)(\/reply)?$/);
    if (msg) {
      const m = box.messages.find((x) => x.id === decodeURIComponent(msg[1]));
      if (!m) {
        return done(
          `${req.method} /me/messages/{id}${msg[2] ?? ""}`,
          graphError(404, "ErrorItemNotFound", "The specified object was not found in the store."),
        );
      }
      if (msg[2] && req.method === "POST") {
        return done("POST /me/messages/{id}/reply", new Response(null, { status: 202 }));
      }
      if (!msg[2] && req.method === "GET") return done("GET /me/messages/{id}", json(m));
    }
    const delta = path.match(/^\/me\/mailFolders\/(\w+)\/messages\/delta$/);
    if (delta && req.method === "GET") {
      const url = new URL(req.url);
      if (box.deltaGone && url.searchParams.has("$deltatoken")) {
        box.deltaGone = false;
        return done(
          "GET delta",
          graphError(
            410,
            "SyncStateNotFound",
            "The sync state generation is not found. Restart the sync.",
          ),
        );
      }
      const pageSize = Number(
        req.headers.get("prefer")?.match(/odata\.maxpagesize=(\d+)/)?.[1] ?? 10,
      );
      // $deltatoken: messages received after it (a count); $skiptoken: offset within this round.
      const since = Number(url.searchParams.get("$deltatoken") ?? -1);
      const skip = Number(url.searchParams.get("$skiptoken") ?? 0);
      const base = since >= 0 ? box.messages.slice(since) : box.messages;
      const slice = base.slice(skip, skip + pageSize);
      const self = `${url.origin}/v1.0/me/mailFolders/${delta[1]}/messages/delta`;
      const more = skip + pageSize < base.length;
      const link = more
        ? {
          "@odata.nextLink": `${self}?${since >= 0 ? `$deltatoken=${since}&` : ""}$skiptoken=${
            skip + pageSize
          }`,
        }
        : { "@odata.deltaLink": `${self}?$deltatoken=${box.messages.length}` };
      return done(
        "GET delta",
        json({
          "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(message)",
          value: slice,
          ...link,
        }),
      );
    }
    return done(`${req.method} ${path}`, graphError(404, "UnknownResource", `no resource ${path}`));
  }

  async function notify(b: Record<string, unknown>) {
    const box = mailbox(String(b.mailbox));
    const sub = [...subscriptions.values()].find((s) => s.mailbox === box.id);
    if (!sub) return { status: 0, error: "no subscription for this mailbox" };
    const clientState = b.client_state === undefined ? sub.clientState : b.client_state;
    let payload;
    let url = sub.notificationUrl;
    if (b.lifecycle_event) {
      url = sub.lifecycleNotificationUrl ?? sub.notificationUrl;
      payload = {
        value: [{
          subscriptionId: sub.id,
          subscriptionExpirationDateTime: sub.expirationDateTime,
          tenantId: "fake-tenant",
          clientState,
          lifecycleEvent: b.lifecycle_event,
        }],
      };
    } else {
      const id = String(b.message_id);
      payload = {
        value: [{
          subscriptionId: sub.id,
          subscriptionExpirationDateTime: sub.expirationDateTime,
          changeType: b.change_type ?? "created",
          resource: `Users/${box.id}/Messages/${id}`,
          resourceData: {
            "@odata.type": "#Microsoft.Graph.Message",
            "@odata.id": `Users/${box.id}/Messages/${id}`,
            id,
          },
          clientState,
          tenantId: "fake-tenant",
        }],
      };
    }
    return await deliver(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    }, 3000);
  }

  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (/^\/[\w.-]+\/oauth2\/v2\.0\/authorize$/.test(path) && req.method === "GET") {
      const q = url.searchParams;
      const redirect = q.get("redirect_uri");
      if (q.get("client_id") !== opts.clientId || !redirect || q.get("response_type") !== "code") {
        return new Response("AADSTS700016: invalid client_id, redirect_uri or response_type", {
          status: 400,
        });
      }
      const code = randomToken("M.C5_", 16);
      // login_hint picks the mailbox, as a signed-in user would.
      const box = mailbox(q.get("login_hint") ?? "fake-user");
      codes.set(code, {
        mailbox: box.id,
        redirect_uri: redirect,
        challenge: q.get("code_challenge") ?? undefined,
        method: q.get("code_challenge_method") ?? "plain",
        scope: q.get("scope") ?? "",
      });
      const target = new URL(redirect);
      target.searchParams.set("code", code);
      if (q.get("state") !== null) target.searchParams.set("state", q.get("state")!);
      return new Response(null, { status: 302, headers: { location: target.toString() } });
    }
    if (/^\/[\w.-]+\/oauth2\/v2\.0\/token$/.test(path) && req.method === "POST") {
      return await token(req);
    }
    if (path.startsWith("/v1.0/")) return await graph(req, path.slice("/v1.0".length));

    if (path === "/__fake/mailboxes" && req.method === "POST") {
      const b = await req.json();
      mailboxes.set(b.id, {
        id: b.id,
        mail: b.mail ?? `${b.id}@contoso.test`,
        displayName: b.displayName ?? b.id,
        messages: b.messages ?? [],
        deltaGone: false,
        refreshCount: 0,
      });
      return json({ ok: true });
    }
    if (path === "/__fake/messages" && req.method === "POST") {
      const b = await req.json();
      const m: GraphMessage = {
        id: crypto.randomUUID(),
        receivedDateTime: new Date().toISOString(),
        ...b.message,
      };
      mailbox(b.mailbox).messages.push(m);
      return json(m);
    }
    if (path === "/__fake/notify" && req.method === "POST") {
      return json(await notify(await req.json()));
    }
    if (path === "/__fake/delta_gone" && req.method === "POST") {
      mailbox((await req.json()).mailbox).deltaGone = true;
      return json({ ok: true });
    }
    if (path === "/__fake/expire" && req.method === "POST") {
      const id = (await req.json()).mailbox;
      for (const t of access.values()) if (t.mailbox === id) t.revoked = true;
      return json({ ok: true });
    }
    if (path === "/__fake/state" && req.method === "GET") {
      const id = url.searchParams.get("mailbox")!;
      const box = mailbox(id);
      return json({
        refresh_count: box.refreshCount,
        valid_refresh_tokens: [...refresh.values()].filter((r) =>
          r.mailbox === id && !r.used
        ).length,
        subscriptions: [...subscriptions.values()].filter((s) => s.mailbox === id)
          .map(({ mailbox: _m, clientState: _c, ...s }) => s),
      });
    }
    if (path === "/__fake/valid_refresh" && req.method === "POST") {
      // Whether a refresh token is the mailbox's current one (tests hold Aide's decrypted copy).
      const b = await req.json();
      const r = refresh.get(b.refresh_token);
      return json({ valid: !!r && !r.used && r.mailbox === b.mailbox });
    }
    if (path === "/__fake/requests" && req.method === "GET") {
      const api = url.searchParams.get("api");
      const box = url.searchParams.get("mailbox");
      return json(log.list((e) => (!api || e.api === api) && (!box || e.params.mailbox === box)));
    }
    return graphError(404, "UnknownResource", `no resource ${path}`);
  };
}
