// The local stack's Auth server, served by the gateway under /auth/v1: the GoTrue endpoints
// supabase-js (@supabase/auth-js 2.x) calls, with GoTrue's request and response shapes, status
// codes and error bodies, and its state in the auth schema. Configured by supabase/config.toml
// ([auth], read by ./config.ts). Mails go to the mail catcher (./mail.ts, GET /auth/v1/_mail).
//
// Left out (a hosted project has them): phone and SMS sign-in, OAuth/SSO/SAML providers,
// anonymous sign-in, MFA, passkeys, invites, the second confirmation of double_confirm_changes.
import { createHash } from "node:crypto";
import { Hono } from "hono";
import { cors } from "hono/cors";
import type postgres from "postgres";
import { type Jwk, type SigningKeys, verifyJwt } from "../jwt.ts";
import { type AuthConfig, redirectAllowed } from "./config.ts";
import { AuthError, badRequest, errorResponse, validationFailed } from "./errors.ts";
import { beforeUserCreated } from "./hooks.ts";
import { clientIp, limitEmailSent, limitFrequency, limitRequests } from "./limits.ts";
import { mailbox, type MailKind, sendMail } from "./mail.ts";
import { type AuthContext, logout, refresh, signIn } from "./sessions.ts";
import * as store from "./store.ts";
import type { UserRow } from "./store.ts";
import { userJson } from "./users.ts";

type Env = { Bindings: { info: Deno.ServeHandlerInfo } };
// deno-lint-ignore no-explicit-any
type Body = Record<string, any>;

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PKCE_PREFIX = "pkce_";
const FLOW_STATE_TTL_MS = 5 * 60_000;

/** GoTrue's token hash: hex SHA-224 of the address and the one-time code. */
const tokenHash = (email: string, otp: string) =>
  createHash("sha224").update(email + otp).digest("hex");

const randomOtp = (length: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(length)), (b) => String(b % 10)).join("");

async function body(req: Request): Promise<Body> {
  const text = await req.text();
  if (!text) return {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  } catch { /* below */ }
  throw badRequest("bad_json", "Could not parse request body as JSON");
}

function checkEmail(email: unknown): string {
  if (typeof email !== "string" || !email) {
    throw validationFailed("An email address is required");
  }
  const lower = email.trim().toLowerCase();
  if (!EMAIL.test(lower) || lower.length > 255) {
    throw validationFailed("Unable to validate email address: invalid format");
  }
  return lower;
}

function checkPassword(cfg: AuthConfig, password: unknown): string {
  if (typeof password !== "string" || password === "") {
    throw validationFailed("Signup requires a valid password");
  }
  if (password.length < cfg.minimumPasswordLength) {
    throw new AuthError(
      422,
      "weak_password",
      `Password should be at least ${cfg.minimumPasswordLength} characters.`,
      { weak_password: { reasons: ["length"] } },
    );
  }
  return password;
}

/** PKCE parameters of a request: both or neither, s256 or plain. */
function pkceParams(b: Body) {
  const challenge = b.code_challenge, method = b.code_challenge_method;
  if (!challenge && !method) return null;
  if (!challenge || !method) {
    throw validationFailed("PKCE flow requires code_challenge_method and code_challenge");
  }
  const m = String(method).toLowerCase();
  if (m !== "s256" && m !== "plain") {
    throw validationFailed("code challenge method not supported");
  }
  if (String(challenge).length < 43 || String(challenge).length > 128) {
    throw validationFailed("code challenge has to be between 43 and 128 characters");
  }
  return { challenge: String(challenge), method: m };
}

export function authServer(opts: {
  sql: postgres.Sql;
  cfg: AuthConfig;
  keys: SigningKeys;
  publicJwks: { keys: Jwk[] };
  apiUrl: string;
}) {
  const { sql, cfg, keys } = opts;
  const issuer = `${opts.apiUrl}/auth/v1`;
  const ctx: AuthContext = { sql, cfg, keys, issuer };
  const app = new Hono<Env>().basePath("/auth/v1");

  // Browsers call Auth from the app's own origin, as they call a hosted project's.
  app.use(
    "*",
    cors({
      origin: "*",
      allowHeaders: [
        "authorization",
        "apikey",
        "content-type",
        "x-client-info",
        "x-supabase-api-version",
      ],
      allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
      exposeHeaders: ["x-supabase-api-version", "x-total-count"],
    }),
  );

  app.onError((e, c) => {
    if (e instanceof AuthError) return errorResponse(c.req.raw, e);
    console.log(JSON.stringify({ level: "error", msg: "auth server error", error: String(e) }));
    return errorResponse(
      c.req.raw,
      new AuthError(
        500,
        "unexpected_failure",
        "Unexpected failure, please check server logs for more information",
      ),
    );
  });

  const ip = (c: { req: { raw: Request }; env: Env["Bindings"] }) =>
    clientIp(c.req.raw, c.env.info);
  const client = (c: { req: { raw: Request }; env: Env["Bindings"] }) => ({
    userAgent: c.req.raw.headers.get("user-agent"),
    ip: ip(c),
  });
  const redirectTo = (url: string | undefined | null) =>
    url && redirectAllowed(cfg, url) ? url : cfg.siteUrl;

  // --- mails ------------------------------------------------------------------------------------
  /** Sends a mail with a fresh code; the stored token is the hash (pkce_-prefixed for PKCE). */
  async function mailCode(
    tx: store.Sql,
    user: UserRow,
    kind: MailKind,
    redirect: string,
    pkce: boolean,
    to = user.email!,
  ) {
    const sentAt = kind === "signup"
      ? user.confirmation_sent_at
      : kind === "email_change"
      ? user.email_change_sent_at
      : user.recovery_sent_at;
    limitFrequency(sentAt, cfg.mailMaxFrequency);
    limitEmailSent(cfg.rateLimits.emailSent);
    const otp = randomOtp(cfg.otpLength);
    const token = (pkce ? PKCE_PREFIX : "") + tokenHash(to, otp);
    if (kind === "signup") await store.setConfirmationToken(tx, user.id, token);
    else if (kind === "email_change") await store.setEmailChange(tx, user.id, to, token);
    else await store.setRecoveryToken(tx, user.id, token);
    const type = kind === "recovery" ? "recovery" : kind;
    const link = `${issuer}/verify?token=${token}&type=${type}&redirect_to=${
      encodeURIComponent(redirect)
    }`;
    sendMail(to, kind, link, otp);
  }

  // --- creating users ---------------------------------------------------------------------------
  async function createUser(
    email: string,
    password: string | null,
    data: Record<string, unknown>,
  ) {
    const id = crypto.randomUUID();
    const now = new Date().toISOString();
    if (cfg.hooks.beforeUserCreated) {
      await beforeUserCreated(sql, cfg.hooks.beforeUserCreated, {
        id,
        aud: "authenticated",
        role: "",
        email,
        phone: "",
        app_metadata: { provider: "email", providers: ["email"] },
        user_metadata: data,
        identities: [],
        created_at: now,
        updated_at: now,
        is_anonymous: false,
      });
    }
    return await store.insertEmailUser(sql, { id, email, password, data });
  }

  // --- public endpoints -------------------------------------------------------------------------
  app.get("/health", (c) =>
    c.json({
      version: "aide-local",
      name: "GoTrue",
      description: "GoTrue is a user registration and authentication API",
    }));

  app.get("/settings", (c) =>
    c.json({
      external: { email: true, phone: false, anonymous_users: false },
      disable_signup: !cfg.enableSignup,
      mailer_autoconfirm: !cfg.enableConfirmations,
      phone_autoconfirm: false,
      sms_provider: "",
      saml_enabled: false,
      passkeys_enabled: false,
    }));

  app.get("/.well-known/jwks.json", (c) => c.json(opts.publicJwks));

  app.get("/_mail", (c) => c.json({ mails: mailbox(c.req.query("to")) }));

  app.post("/signup", async (c) => {
    if (!cfg.enableSignup) {
      throw new AuthError(422, "signup_disabled", "Signups not allowed for this instance");
    }
    limitRequests("otp", ip(c), cfg.rateLimits.signInSignUps);
    const b = await body(c.req.raw);
    if (b.phone) throw badRequest("phone_provider_disabled", "Phone signups are disabled");
    const password = checkPassword(cfg, b.password);
    const email = checkEmail(b.email);
    const pkce = pkceParams(b);
    const redirect = redirectTo(c.req.query("redirect_to"));
    const data = (b.data && typeof b.data === "object") ? b.data : {};
    const existing = await store.findUserByEmail(sql, email);
    if (existing?.email_confirmed_at) {
      if (!cfg.enableConfirmations) {
        throw new AuthError(422, "user_already_exists", "User already registered");
      }
      // GoTrue answers as for a new sign-up, so the response does not tell who is registered.
      return c.json(obfuscatedUser(email, data));
    }
    const user = existing ?? await createUser(email, password, data);
    if (!cfg.enableConfirmations) {
      await store.confirmEmail(sql, user.id);
      return c.json(await signIn(ctx, user.id, "password", client(c)));
    }
    await sql.begin(async (tx) => {
      if (pkce) {
        await store.insertFlowState(tx, {
          userId: user.id,
          challenge: pkce.challenge,
          method: pkce.method,
          authMethod: "email/signup",
        });
      }
      await mailCode(tx, user, "signup", redirect, !!pkce);
    });
    const fresh = await store.findUserById(sql, user.id);
    return c.json(userJson(fresh, await store.identitiesOf(sql, user.id)));
  });

  function obfuscatedUser(email: string, data: Record<string, unknown>) {
    const now = new Date().toISOString();
    return {
      id: crypto.randomUUID(),
      aud: "authenticated",
      role: "",
      email,
      phone: "",
      confirmation_sent_at: now,
      app_metadata: { provider: "email", providers: ["email"] },
      user_metadata: data,
      identities: [],
      created_at: now,
      updated_at: now,
      is_anonymous: false,
    };
  }

  app.post("/otp", async (c) => {
    limitRequests("otp", ip(c), cfg.rateLimits.signInSignUps);
    const b = await body(c.req.raw);
    if (b.phone) throw badRequest("phone_provider_disabled", "Unsupported phone provider");
    const email = checkEmail(b.email);
    const pkce = pkceParams(b);
    const redirect = redirectTo(c.req.query("redirect_to"));
    let user = await store.findUserByEmail(sql, email);
    if (!user) {
      if (b.create_user === false || !cfg.enableSignup) {
        throw new AuthError(422, "otp_disabled", "Signups not allowed for otp");
      }
      user = await createUser(email, null, b.data ?? {});
    }
    const confirmed = !!user.email_confirmed_at;
    await sql.begin(async (tx) => {
      if (pkce) {
        await store.insertFlowState(tx, {
          userId: user.id,
          challenge: pkce.challenge,
          method: pkce.method,
          authMethod: confirmed ? "magiclink" : "email/signup",
        });
      }
      await mailCode(tx, user, confirmed ? "magiclink" : "signup", redirect, !!pkce);
    });
    return c.json({});
  });

  app.post("/recover", async (c) => {
    limitRequests("otp", ip(c), cfg.rateLimits.signInSignUps);
    const b = await body(c.req.raw);
    const email = checkEmail(b.email);
    const pkce = pkceParams(b);
    const redirect = redirectTo(c.req.query("redirect_to"));
    const user = await store.findUserByEmail(sql, email);
    // Unknown addresses get the same answer: recovery does not tell who is registered.
    if (user) {
      await sql.begin(async (tx) => {
        if (pkce) {
          await store.insertFlowState(tx, {
            userId: user.id,
            challenge: pkce.challenge,
            method: pkce.method,
            authMethod: "recovery",
          });
        }
        await mailCode(tx, user, "recovery", redirect, !!pkce);
      });
    }
    return c.json({});
  });

  app.post("/resend", async (c) => {
    limitRequests("otp", ip(c), cfg.rateLimits.signInSignUps);
    const b = await body(c.req.raw);
    if (b.type !== "signup" && b.type !== "email_change") {
      throw validationFailed("Missing one of these types: signup, email_change, sms, phone_change");
    }
    const email = checkEmail(b.email);
    const redirect = redirectTo(c.req.query("redirect_to"));
    const user = await store.findUserByEmail(sql, email);
    if (user && b.type === "signup" && !user.email_confirmed_at) {
      await sql.begin((tx) => mailCode(tx, user, "signup", redirect, false));
    } else if (user && b.type === "email_change" && user.email_change) {
      await sql.begin((tx) =>
        mailCode(tx, user, "email_change", redirect, false, user.email_change!)
      );
    }
    return c.json({});
  });

  // --- verify: the links and codes of the mails -------------------------------------------------
  /** The user a link or code is for, and the type it turned out to be (for type=email). */
  async function verifyToken(
    type: string,
    token: { hash?: string; email?: string; otp?: string },
  ): Promise<{ user: UserRow; type: string }> {
    const expired = () =>
      new AuthError(
        403,
        "otp_expired",
        token.hash ? "Email link is invalid or has expired" : "Token has expired or is invalid",
      );
    const valid = (sentAt: Date | null) =>
      !!sentAt && Date.now() <= sentAt.getTime() + cfg.otpExpiry * 1000;
    let user: UserRow | undefined;
    let hash = token.hash;
    if (!hash) {
      if (!token.email || !token.otp) {
        throw validationFailed("Verify requires either a token or a token hash");
      }
      user = await store.findUserByEmail(sql, checkEmail(token.email));
      hash = tokenHash(token.email.trim().toLowerCase(), token.otp);
      if (type === "email_change" && user?.email_change) {
        hash = tokenHash(user.email_change, token.otp);
      }
    }
    const matches = (stored: string | null) =>
      !!stored && (stored === hash || stored === PKCE_PREFIX + hash);
    const candidates: [string, (u: UserRow) => boolean, (u: UserRow) => Date | null][] = [];
    if (type === "signup" || type === "invite" || type === "email") {
      candidates.push([
        "signup",
        (u) => matches(u.confirmation_token),
        (u) => u.confirmation_sent_at,
      ]);
    }
    if (type === "magiclink" || type === "recovery" || type === "email") {
      candidates.push([
        type === "email" ? "magiclink" : type,
        (u) => matches(u.recovery_token),
        (u) => u.recovery_sent_at,
      ]);
    }
    if (type === "email_change") {
      candidates.push([
        "email_change",
        (u) => matches(u.email_change_token_new),
        (u) => u.email_change_sent_at,
      ]);
    }
    if (candidates.length === 0) throw validationFailed("Unsupported verification type");
    for (const [resolved, match, sentAt] of candidates) {
      const found = user ??
        (resolved === "signup"
          ? await store.findUserByConfirmationToken(sql, hash!) ??
            await store.findUserByConfirmationToken(sql, PKCE_PREFIX + hash)
          : resolved === "email_change"
          ? await store.findUserByEmailChangeToken(sql, hash!) ??
            await store.findUserByEmailChangeToken(sql, PKCE_PREFIX + hash)
          : await store.findUserByRecoveryToken(sql, hash!) ??
            await store.findUserByRecoveryToken(sql, PKCE_PREFIX + hash));
      if (found && match(found)) {
        if (!valid(sentAt(found))) throw expired();
        if (found.banned_until && found.banned_until > new Date()) {
          throw new AuthError(403, "user_banned", "User is banned");
        }
        return { user: found, type: resolved };
      }
    }
    throw expired();
  }

  /** What following a link or entering a code does: confirm, then clear the one-time token. */
  async function consume(user: UserRow, type: string) {
    if (type === "signup" || type === "invite") await store.confirmEmail(sql, user.id);
    else if (type === "email_change") await store.applyEmailChange(sql, user.id);
    else {
      await store.clearRecoveryToken(sql, user.id);
      // Following a magic link or recovery link also proves the address.
      if (!user.email_confirmed_at) await store.confirmEmail(sql, user.id);
    }
  }

  const authMethodOf = (type: string) =>
    type === "signup" || type === "invite"
      ? "email/signup"
      : type === "email_change"
      ? "email_change"
      : type;

  app.get("/verify", async (c) => {
    limitRequests("verify", ip(c), cfg.rateLimits.tokenVerifications);
    const token = c.req.query("token") ?? "";
    const type = c.req.query("type") ?? "";
    const redirect = redirectTo(c.req.query("redirect_to"));
    const pkce = token.startsWith(PKCE_PREFIX);
    try {
      if (!type) throw validationFailed("Verify requires a verification type");
      if (!token) throw validationFailed("Verify requires a token or a token hash");
      const { user, type: resolved } = await verifyToken(type, { hash: token });
      await consume(user, resolved);
      const target = new URL(redirect);
      if (pkce) {
        const flow = await store.issueAuthCode(sql, user.id, authMethodOf(resolved));
        if (!flow) {
          throw new AuthError(400, "flow_state_not_found", "No associated flow state found.");
        }
        target.searchParams.set("code", flow.auth_code);
        return c.redirect(target.toString(), 303);
      }
      const session = await signIn(ctx, user.id, "otp", client(c));
      const fragment = new URLSearchParams({
        access_token: session.access_token,
        expires_at: String(session.expires_at),
        expires_in: String(session.expires_in),
        refresh_token: session.refresh_token,
        token_type: "bearer",
        type: resolved,
      });
      target.hash = fragment.toString();
      return c.redirect(target.toString(), 303);
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      // GoTrue sends the browser back with the error in the fragment (and the query, for PKCE).
      const target = new URL(redirect);
      const params = new URLSearchParams();
      const oauth = { 400: "invalid_request", 401: "unauthorized_client", 403: "access_denied" }[
        e.status as 400
      ];
      if (oauth) params.set("error", oauth);
      params.set("error_code", e.code);
      params.set("error_description", e.message);
      if (pkce) params.forEach((v, k) => target.searchParams.set(k, v));
      params.set("sb", "");
      target.hash = params.toString();
      return c.redirect(target.toString(), 303);
    }
  });

  app.post("/verify", async (c) => {
    limitRequests("verify", ip(c), cfg.rateLimits.tokenVerifications);
    const b = await body(c.req.raw);
    if (!b.type) throw validationFailed("Verify requires a verification type");
    if (b.token_hash && (b.email || b.phone)) {
      throw validationFailed("Only the token_hash and type should be provided");
    }
    if (b.phone) throw badRequest("phone_provider_disabled", "Unsupported phone provider");
    const { user, type } = await verifyToken(
      b.type,
      b.token_hash ? { hash: b.token_hash } : { email: b.email, otp: b.token },
    );
    await consume(user, type);
    return c.json(await signIn(ctx, user.id, "otp", client(c)));
  });

  // --- tokens -----------------------------------------------------------------------------------
  app.post("/token", async (c) => {
    const grant = c.req.query("grant_type");
    if (!["password", "refresh_token", "pkce"].includes(grant ?? "")) {
      throw badRequest("validation_failed", "unsupported_grant_type");
    }
    limitRequests("token", ip(c), cfg.rateLimits.tokenRefresh);
    const b = await body(c.req.raw);
    if (grant === "refresh_token") {
      if (!b.refresh_token) throw validationFailed("refresh_token required");
      return c.json(await refresh(ctx, String(b.refresh_token)));
    }
    if (grant === "pkce") return c.json(await exchangeCode(b, client(c)));
    // password
    if (b.phone) throw new AuthError(422, "phone_provider_disabled", "Phone logins are disabled");
    if (!b.email) throw validationFailed("missing email or phone");
    const invalid = () => badRequest("invalid_credentials", "Invalid login credentials");
    const user = await store.findUserByEmail(sql, String(b.email).trim().toLowerCase());
    if (!user || !user.encrypted_password) throw invalid();
    if (user.banned_until && user.banned_until > new Date()) {
      throw badRequest("user_banned", "User is banned");
    }
    if (!(await store.passwordMatches(sql, user.id, String(b.password ?? "")))) throw invalid();
    if (!user.email_confirmed_at) throw badRequest("email_not_confirmed", "Email not confirmed");
    return c.json(await signIn(ctx, user.id, "password", client(c)));
  });

  async function exchangeCode(b: Body, who: { userAgent: string | null; ip: string | null }) {
    if (!b.auth_code || !b.code_verifier) {
      throw validationFailed(
        "invalid request: both auth code and code verifier should be non-empty",
      );
    }
    const flow = await store.takeFlowState(sql, String(b.auth_code));
    if (!flow || !flow.auth_code_issued_at || !flow.user_id) {
      throw new AuthError(
        404,
        "flow_state_not_found",
        "invalid flow state, no valid flow state found",
      );
    }
    if (Date.now() > flow.auth_code_issued_at.getTime() + FLOW_STATE_TTL_MS) {
      throw new AuthError(422, "flow_state_expired", "invalid flow state, flow state has expired");
    }
    const verifier = String(b.code_verifier);
    const expected = flow.code_challenge_method === "s256"
      ? createHash("sha256").update(verifier).digest("base64url")
      : verifier;
    if (expected !== flow.code_challenge) {
      throw new AuthError(
        403,
        "bad_code_verifier",
        "code challenge does not match previously saved code verifier",
      );
    }
    const method = flow.authentication_method === "email/signup" ? "email/signup" : "otp";
    return await signIn(ctx, flow.user_id, method, who);
  }

  // --- the signed-in user -----------------------------------------------------------------------
  /** The caller's verified claims (GoTrue's requireAuthentication). */
  async function requireUser(req: Request) {
    const token = req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) {
      throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
    }
    let claims: Record<string, unknown> | null = null;
    for (const key of opts.publicJwks.keys) claims ??= await verifyJwt(token, key);
    if (!claims) {
      throw new AuthError(
        403,
        "bad_jwt",
        "invalid JWT: unable to parse or verify signature, token is expired or invalid",
      );
    }
    return claims as { sub?: string; role?: string; session_id?: string };
  }

  async function currentUser(req: Request) {
    const claims = await requireUser(req);
    if (!claims.sub) throw new AuthError(403, "bad_jwt", "invalid claim: missing sub claim");
    const user = await store.findUserById(sql, claims.sub);
    if (!user) {
      throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
    }
    if (claims.session_id && !(await store.sessionExists(sql, claims.session_id))) {
      throw new AuthError(
        403,
        "session_not_found",
        "Session from session_id claim in JWT does not exist",
      );
    }
    return { user, claims: claims as { sub: string; session_id?: string } };
  }

  app.get("/user", async (c) => {
    const { user } = await currentUser(c.req.raw);
    return c.json(userJson(user, await store.identitiesOf(sql, user.id)));
  });

  app.put("/user", async (c) => {
    limitRequests("otp", ip(c), cfg.rateLimits.signInSignUps);
    const { user } = await currentUser(c.req.raw);
    const b = await body(c.req.raw);
    if (b.phone) throw new AuthError(422, "phone_provider_disabled", "Phone logins are disabled");
    if (b.password !== undefined) {
      const password = checkPassword(cfg, b.password);
      if (await store.passwordMatches(sql, user.id, password)) {
        throw new AuthError(
          422,
          "same_password",
          "New password should be different from the old password.",
        );
      }
      await store.setPassword(sql, user.id, password);
    }
    if (b.data !== undefined) {
      if (!b.data || typeof b.data !== "object") throw validationFailed("data must be an object");
      await store.mergeUserMetadata(sql, user.id, b.data);
    }
    if (b.email !== undefined) {
      const email = checkEmail(b.email);
      if (email !== user.email) {
        const taken = await store.findUserByEmail(sql, email);
        if (taken) {
          throw new AuthError(
            422,
            "email_exists",
            "A user with this email address has already been registered",
          );
        }
        const redirect = redirectTo(c.req.query("redirect_to"));
        await sql.begin((tx) => mailCode(tx, user, "email_change", redirect, false, email));
      }
    }
    const fresh = await store.findUserById(sql, user.id);
    return c.json(userJson(fresh, await store.identitiesOf(sql, user.id)));
  });

  app.post("/logout", async (c) => {
    const claims = await requireUser(c.req.raw);
    const scope = c.req.query("scope") ?? "global";
    if (scope !== "global" && scope !== "local" && scope !== "others") {
      throw validationFailed(`Unsupported logout scope "${scope}"`);
    }
    if (claims.sub) await logout(ctx, { sub: claims.sub, session_id: claims.session_id }, scope);
    return c.body(null, 204);
  });

  // --- admin (service-role key) -----------------------------------------------------------------
  app.use("/admin/*", async (c, next) => {
    const claims = await requireUser(c.req.raw);
    if (claims.role !== "service_role" && claims.role !== "supabase_admin") {
      throw new AuthError(403, "not_admin", "User not allowed");
    }
    await next();
  });

  const findOr404 = async (id: string) => {
    const user = /^[0-9a-f-]{36}$/i.test(id) ? await store.findUserById(sql, id) : undefined;
    if (!user) throw new AuthError(404, "user_not_found", "User not found");
    return user;
  };
  const adminJson = async (id: string) =>
    userJson(await store.findUserById(sql, id), await store.identitiesOf(sql, id));

  app.get("/admin/users", async (c) => {
    const page = Math.max(1, Number(c.req.query("page") ?? 1) || 1);
    const perPage = Math.min(1000, Math.max(1, Number(c.req.query("per_page") ?? 50) || 50));
    const rows = await store.listUsers(sql, perPage, (page - 1) * perPage);
    const total = await store.countUsers(sql);
    c.header("x-total-count", String(total));
    const users = await Promise.all(
      rows.map(async (u) => userJson(u, await store.identitiesOf(sql, u.id))),
    );
    return c.json({ users, aud: "authenticated" });
  });

  app.post("/admin/users", async (c) => {
    const b = await body(c.req.raw);
    const email = checkEmail(b.email);
    if (await store.findUserByEmail(sql, email)) {
      throw new AuthError(
        422,
        "email_exists",
        "A user with this email address has already been registered",
      );
    }
    const password = b.password === undefined ? null : checkPassword(cfg, b.password);
    const user = await createUser(email, password, b.user_metadata ?? {});
    await applyAdminChanges(user.id, b);
    return c.json(await adminJson(user.id));
  });

  async function applyAdminChanges(id: string, b: Body) {
    if (b.email_confirm === true) await store.confirmEmail(sql, id);
    if (b.app_metadata && typeof b.app_metadata === "object") {
      await store.setAppMetadata(sql, id, b.app_metadata);
    }
    if (b.ban_duration !== undefined) {
      const m = String(b.ban_duration).match(/^(\d+)h$/);
      if (b.ban_duration !== "none" && !m) {
        throw validationFailed("invalid format for ban duration");
      }
      await store.setBannedUntil(
        sql,
        id,
        m ? new Date(Date.now() + Number(m[1]) * 3_600_000) : null,
      );
    }
  }

  app.get("/admin/users/:id", async (c) => {
    const user = await findOr404(c.req.param("id"));
    return c.json(await adminJson(user.id));
  });

  app.put("/admin/users/:id", async (c) => {
    const user = await findOr404(c.req.param("id"));
    const b = await body(c.req.raw);
    if (b.password !== undefined) {
      await store.setPassword(sql, user.id, checkPassword(cfg, b.password));
    }
    if (b.user_metadata && typeof b.user_metadata === "object") {
      await store.mergeUserMetadata(sql, user.id, b.user_metadata);
    }
    await applyAdminChanges(user.id, b);
    return c.json(await adminJson(user.id));
  });

  app.delete("/admin/users/:id", async (c) => {
    const user = await findOr404(c.req.param("id"));
    await store.deleteUser(sql, user.id);
    return c.json({});
  });

  app.all("*", (c) => errorResponse(c.req.raw, new AuthError(404, "not_found", "Not found")));

  return (req: Request, info: Deno.ServeHandlerInfo) => app.fetch(req, { info });
}
