// The local Auth server (/auth/v1) driven by supabase-js itself, as an app signs in: sign-up
// with the confirmation read from the mail catcher, password, magic-link and OTP sign-in,
// refresh with rotation and reuse detection, getUser, getClaims, updateUser, sign-out scopes,
// onAuthStateChange, PKCE, the before_user_created hook, rate limits, admin, and an Aide
// function accepting a session's token and refusing an expired one.
import assert from "node:assert/strict";
import type { AuthChangeEvent } from "@supabase/supabase-js";
import { signJwt } from "../../local/jwt.ts";
import { readKeys } from "../../local/token.ts";
import {
  AUTH_URL,
  authClient,
  followLink,
  fragmentSession,
  lastMail,
  mailsTo,
  newEmail,
  testIp,
  withAllowlist,
} from "../_support/auth.ts";
import { call, cfg, connect, env, FUNCTIONS_URL } from "../_support/stack.ts";

const PASSWORD = "correct horse battery";

/** A confirmed user (signed up, confirmation link followed) and a client signed in as them. */
async function confirmedUser(prefix = "auth") {
  const email = newEmail(prefix);
  const client = authClient();
  const { error } = await client.auth.signUp({ email, password: PASSWORD });
  assert.equal(error, null);
  await followLink((await lastMail(email)).link);
  const signedIn = await client.auth.signInWithPassword({ email, password: PASSWORD });
  assert.equal(signedIn.error, null);
  return { email, client, session: signedIn.data.session! };
}

Deno.test("auth: sign-up sends a confirmation mail and gives no session until it is followed", async () => {
  const email = newEmail("signup");
  const client = authClient();
  const { data, error } = await client.auth.signUp({
    email,
    password: PASSWORD,
    options: { data: { display_name: "Ada" } },
  });
  assert.equal(error, null);
  assert.equal(data.session, null);
  assert.equal(data.user?.email, email);
  assert.equal(data.user?.email_confirmed_at, undefined);
  assert.equal(data.user?.user_metadata.display_name, "Ada");

  const early = await client.auth.signInWithPassword({ email, password: PASSWORD });
  assert.equal(early.error?.code, "email_not_confirmed");
  assert.equal(early.error?.status, 400);

  const mail = await lastMail(email);
  assert.equal(mail.subject, "Confirm Your Signup");
  assert.match(mail.text, /Follow this link to confirm your user/);
  assert.ok(mail.html.includes(mail.link.replace(/&/g, "&amp;")));
  assert.match(mail.otp, /^\d{6}$/);
  const landed = await followLink(mail.link);
  // Back to site_url with the session in the fragment, as GoTrue's implicit flow does.
  assert.equal(landed.origin, "http://127.0.0.1:3000");
  const fragment = fragmentSession(landed);
  assert.equal(fragment.type, "signup");
  assert.equal(fragment.token_type, "bearer");
  const { data: fromLink } = await client.auth.getUser(fragment.access_token);
  assert.equal(fromLink.user?.email, email);

  const sql = connect();
  try {
    const [row] = await sql`select email_confirmed_at, raw_user_meta_data, encrypted_password
                            from auth.users where email = ${email}`;
    assert.ok(row.email_confirmed_at, "email_confirmed_at is set");
    assert.equal(row.raw_user_meta_data.email_verified, true);
    assert.match(row.encrypted_password, /^\$2[aby]\$10\$/, "a bcrypt hash, as GoTrue stores");
    const [identity] = await sql`select provider, identity_data from auth.identities i
                                 join auth.users u on u.id = i.user_id where u.email = ${email}`;
    assert.equal(identity.provider, "email");
  } finally {
    await sql.end();
  }

  const signedIn = await client.auth.signInWithPassword({ email, password: PASSWORD });
  assert.equal(signedIn.error, null);
  assert.equal(signedIn.data.user?.user_metadata.email_verified, true);
  // A used link does not work twice.
  const again = fragmentSession(await followLink(mail.link));
  assert.equal(again.error_code, "otp_expired");
});

Deno.test("auth: wrong passwords, weak passwords and a second sign-up answer as GoTrue does", async () => {
  const { email } = await confirmedUser("errors");
  const client = authClient();
  const wrong = await client.auth.signInWithPassword({ email, password: "nope-nope" });
  assert.equal(wrong.error?.code, "invalid_credentials");
  assert.equal(wrong.error?.message, "Invalid login credentials");
  const weak = await client.auth.signUp({ email: newEmail("weak"), password: "12345" });
  assert.equal(weak.error?.code, "weak_password");
  assert.equal(weak.error?.status, 422);
  // Signing up again with a taken address looks like a new sign-up and sends nothing.
  const before = (await mailsTo(email)).length;
  const twice = await client.auth.signUp({ email, password: PASSWORD });
  assert.equal(twice.error, null);
  assert.equal(twice.data.user?.identities?.length, 0);
  assert.equal((await mailsTo(email)).length, before);
  // The older error shape, for clients without X-Supabase-Api-Version.
  const res = await fetch(`${AUTH_URL}/token?grant_type=password`, {
    method: "POST",
    headers: { apikey: env.SUPABASE_ANON_KEY, "content-type": "application/json" },
    body: JSON.stringify({ email, password: "nope-nope" }),
  });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), {
    code: 400,
    error_code: "invalid_credentials",
    msg: "Invalid login credentials",
  });
});

Deno.test("auth: the before_user_created hook refuses a domain outside the allowlist", async () => {
  await withAllowlist(["example.com"], async () => {
    const email = `outsider-${crypto.randomUUID().slice(0, 8)}@blocked.test`;
    const { data, error } = await authClient().auth.signUp({ email, password: PASSWORD });
    assert.equal(error?.status, 403);
    assert.equal(error?.message, "Sign-ups are limited to approved email domains");
    assert.equal(data.user, null);
    const sql = connect();
    try {
      assert.equal((await sql`select 1 from auth.users where email = ${email}`).length, 0);
    } finally {
      await sql.end();
    }
    assert.equal((await mailsTo(email)).length, 0);
    // The allowed domain still signs up.
    const allowed = await authClient().auth.signUp({
      email: newEmail("inside"),
      password: PASSWORD,
    });
    assert.equal(allowed.error, null);
  });
});

Deno.test("auth: magic link and emailed code sign an existing user in", async () => {
  const { email } = await confirmedUser("magic");
  const client = authClient();
  assert.equal((await client.auth.signInWithOtp({ email })).error, null);
  const mail = await lastMail(email, 2);
  assert.equal(mail.subject, "Your Magic Link");
  const fragment = fragmentSession(await followLink(mail.link));
  assert.equal(fragment.type, "magiclink");
  const { data: set } = await client.auth.setSession({
    access_token: fragment.access_token,
    refresh_token: fragment.refresh_token,
  });
  assert.equal(set.user?.email, email);

  // The code in the mail works too (after max_frequency has passed since the last mail).
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await client.auth.signInWithOtp({ email })).error, null);
  const coded = await lastMail(email, 3);
  const { data, error } = await client.auth.verifyOtp({ email, token: coded.otp, type: "email" });
  assert.equal(error, null);
  assert.equal(data.user?.email, email);
  assert.ok(data.session?.access_token);
  const reused = await client.auth.verifyOtp({ email, token: coded.otp, type: "email" });
  assert.equal(reused.error?.code, "otp_expired");

  // create_user: false does not sign up an unknown address.
  const unknown = await client.auth.signInWithOtp({
    email: newEmail("nobody"),
    options: { shouldCreateUser: false },
  });
  assert.equal(unknown.error?.code, "otp_disabled");
});

Deno.test("auth: refresh tokens rotate; reusing a rotated one revokes the session's family", async () => {
  const { client, session } = await confirmedUser("refresh");
  const first = session.refresh_token;
  const { data: r1, error } = await client.auth.refreshSession();
  assert.equal(error, null);
  const second = r1.session!.refresh_token;
  assert.notEqual(second, first);
  assert.equal(r1.session!.user.id, session.user.id);
  // Within refresh_token_reuse_interval (10 s) the old token gives back the current one: the
  // client that lost the answer to its last refresh is not logged out.
  const retry = await authClient().auth.refreshSession({ refresh_token: first });
  assert.equal(retry.error, null);
  assert.equal(retry.data.session!.refresh_token, second);

  await new Promise((r) => setTimeout(r, 10_500));
  const reuse = await authClient().auth.refreshSession({ refresh_token: first });
  assert.equal(reuse.error?.code, "refresh_token_already_used");
  // The family is revoked: past the reuse interval the newest token no longer works either.
  await new Promise((r) => setTimeout(r, 10_500));
  const after = await authClient().auth.refreshSession({ refresh_token: second });
  assert.equal(after.error?.code, "refresh_token_already_used");
  const sql = connect();
  try {
    const live = await sql`select 1 from auth.refresh_tokens
                           where session_id = (select session_id from auth.refresh_tokens
                                               where token = ${first})
                             and revoked = false`;
    assert.equal(live.length, 0);
  } finally {
    await sql.end();
  }
});

Deno.test("auth: getUser, getClaims and updateUser; events reach onAuthStateChange", async () => {
  const email = newEmail("profile");
  const client = authClient();
  const events: AuthChangeEvent[] = [];
  const { data: sub } = client.auth.onAuthStateChange((event) => void events.push(event));
  await client.auth.signUp({ email, password: PASSWORD });
  await followLink((await lastMail(email)).link);
  await client.auth.signInWithPassword({ email, password: PASSWORD });

  const { data: got } = await client.auth.getUser();
  assert.equal(got.user?.email, email);
  const { data: claimed, error: claimsError } = await client.auth.getClaims();
  assert.equal(claimsError, null);
  const claims = claimed!.claims;
  assert.equal(claims.sub, got.user?.id);
  assert.equal(claims.role, "authenticated");
  assert.equal(claims.aud, "authenticated");
  assert.equal(claims.email, email);
  assert.equal(claims.aal, "aal1");
  assert.equal(claims.is_anonymous, false);
  assert.equal(claims.iss, AUTH_URL);
  assert.equal((claims.amr as { method: string }[])[0].method, "password");
  assert.match(String(claims.session_id), /^[0-9a-f-]{36}$/);
  assert.equal(claimed!.header.alg, "ES256");

  const updated = await client.auth.updateUser({ data: { theme: "dark" } });
  assert.equal(updated.error, null);
  assert.equal(updated.data.user?.user_metadata.theme, "dark");
  const newPassword = "a new long password";
  assert.equal((await client.auth.updateUser({ password: newPassword })).error, null);
  const same = await client.auth.updateUser({ password: newPassword });
  assert.equal(same.error?.code, "same_password");
  const old = await authClient().auth.signInWithPassword({ email, password: PASSWORD });
  assert.equal(old.error?.code, "invalid_credentials");
  const fresh = await authClient().auth.signInWithPassword({ email, password: newPassword });
  assert.equal(fresh.error, null);
  assert.equal(fresh.data.user?.user_metadata.theme, "dark");

  await client.auth.refreshSession();
  await client.auth.signOut();
  sub.subscription.unsubscribe();
  for (const event of ["SIGNED_IN", "USER_UPDATED", "TOKEN_REFRESHED", "SIGNED_OUT"]) {
    assert.ok(events.includes(event as AuthChangeEvent), `${event} in ${events}`);
  }
});

Deno.test("auth: sign-out scopes end this session, the others, or all", async () => {
  const { email, client: a, session: sessionA } = await confirmedUser("logout");
  const b = authClient();
  const c = authClient();
  await b.auth.signInWithPassword({ email, password: PASSWORD });
  await c.auth.signInWithPassword({ email, password: PASSWORD });
  const { refresh_token: refreshB, access_token: accessB } = (await b.auth.getSession()).data
    .session!;

  assert.equal((await a.auth.signOut({ scope: "others" })).error, null);
  assert.equal((await a.auth.refreshSession()).error, null, "a's own session stays");
  const bRefresh = await authClient().auth.refreshSession({ refresh_token: refreshB });
  assert.ok(bRefresh.error, "b's session ended");
  // GoTrue answers 403 session_not_found; supabase-js then drops the stored session.
  const raw = await fetch(`${AUTH_URL}/user`, {
    headers: { apikey: env.SUPABASE_ANON_KEY, authorization: `Bearer ${accessB}` },
  });
  assert.equal(raw.status, 403);
  assert.equal((await raw.json()).error_code, "session_not_found");
  const bUser = await b.auth.getUser();
  assert.equal(bUser.error?.name, "AuthSessionMissingError");
  assert.equal((await b.auth.getSession()).data.session, null);

  assert.equal((await a.auth.signOut({ scope: "local" })).error, null);
  const aUser = await authClient().auth.getUser(sessionA.access_token);
  assert.equal(aUser.error?.name, "AuthSessionMissingError");
  // global: every session of the user ends.
  assert.equal((await c.auth.signOut({ scope: "global" })).error, null);
  const sql = connect();
  try {
    const left = await sql`select 1 from auth.sessions s join auth.users u on u.id = s.user_id
                           where u.email = ${email}`;
    assert.equal(left.length, 0);
  } finally {
    await sql.end();
  }
  assert.equal((await a.auth.getSession()).data.session, null);
});

Deno.test("auth: PKCE sign-up and magic link end with a code exchanged for a session", async () => {
  const email = newEmail("pkce");
  const client = authClient({ flowType: "pkce" });
  assert.equal((await client.auth.signUp({ email, password: PASSWORD })).error, null);
  const mail = await lastMail(email);
  assert.match(new URL(mail.link).searchParams.get("token")!, /^pkce_/);
  const landed = await followLink(mail.link);
  const code = landed.searchParams.get("code");
  assert.ok(code, `a code in ${landed}`);
  const { data, error } = await client.auth.exchangeCodeForSession(code!);
  assert.equal(error, null);
  assert.equal(data.user?.email, email);
  assert.ok(data.user?.email_confirmed_at);
  // A code is single use, and needs the verifier of the client that started the flow.
  const twice = await client.auth.exchangeCodeForSession(code!);
  assert.ok(twice.error);

  await new Promise((r) => setTimeout(r, 1100));
  const other = authClient({ flowType: "pkce" });
  assert.equal((await client.auth.signInWithOtp({ email })).error, null);
  const magic = await followLink((await lastMail(email, 2)).link);
  const stolen = await other.auth.exchangeCodeForSession(magic.searchParams.get("code")!);
  assert.ok(stolen.error, "another client without the verifier cannot use the code");
});

Deno.test("auth: redirect_to outside site_url and additional_redirect_urls falls back to site_url", async () => {
  const email = newEmail("redirect");
  const { error } = await authClient().auth.signUp({
    email,
    password: PASSWORD,
    options: { emailRedirectTo: "https://evil.example.net/steal" },
  });
  assert.equal(error, null);
  const first = new URL((await lastMail(email)).link);
  assert.equal(first.searchParams.get("redirect_to"), "http://127.0.0.1:3000");
  // An additional_redirect_urls entry is kept, and the link lands there.
  await new Promise((r) => setTimeout(r, 1100));
  const resent = await authClient().auth.resend({
    type: "signup",
    email,
    options: { emailRedirectTo: "https://127.0.0.1:3000" },
  });
  assert.equal(resent.error, null);
  const landed = await followLink((await lastMail(email, 2)).link);
  assert.equal(landed.origin, "https://127.0.0.1:3000");
  assert.equal(fragmentSession(landed).type, "signup");
});

Deno.test("auth: GoTrue's rate limits: mails to one address, and sign-ups per client address", async () => {
  const email = newEmail("often");
  const client = authClient();
  await client.auth.signUp({ email, password: PASSWORD });
  const soon = await client.auth.resend({ type: "signup", email });
  assert.equal(soon.error?.code, "over_email_send_rate_limit");
  assert.equal(soon.error?.status, 429);

  const ip = testIp();
  const limit = 30; // config.toml [auth.rate_limit] sign_in_sign_ups, per 5 minutes
  const one = authClient({ ip });
  for (let i = 0; i < limit; i++) {
    const { error } = await one.auth.signInWithOtp({ email: newEmail("burst") });
    assert.equal(error, null, `request ${i + 1}`);
  }
  const over = await one.auth.signInWithOtp({ email: newEmail("burst") });
  assert.equal(over.error?.code, "over_request_rate_limit");
  assert.equal(over.error?.status, 429);
  // Another client address is not affected.
  assert.equal((await authClient().auth.signInWithOtp({ email: newEmail("other") })).error, null);
});

Deno.test("auth: admin users need the service-role key", async () => {
  const admin = authClient({ key: env.SUPABASE_SERVICE_ROLE_KEY });
  const email = newEmail("admin");
  const { data: created, error } = await admin.auth.admin.createUser({
    email,
    password: PASSWORD,
    email_confirm: true,
    user_metadata: { team: "ops" },
  });
  assert.equal(error, null);
  assert.ok(created.user?.email_confirmed_at);
  const signedIn = await authClient().auth.signInWithPassword({ email, password: PASSWORD });
  assert.equal(signedIn.error, null);
  const { data: got } = await admin.auth.admin.getUserById(created.user!.id);
  assert.equal(got.user?.user_metadata.team, "ops");
  const { data: listed } = await admin.auth.admin.listUsers({ page: 1, perPage: 1000 });
  assert.ok(listed.users.some((u) => u.id === created.user!.id));
  const updated = await admin.auth.admin.updateUserById(created.user!.id, {
    app_metadata: { plan: "pro" },
  });
  assert.equal(updated.data.user?.app_metadata.plan, "pro");

  const anon = await authClient().auth.admin.listUsers();
  assert.equal(anon.error?.status, 403);
  assert.equal(anon.error?.code, "not_admin");

  assert.equal((await admin.auth.admin.deleteUser(created.user!.id)).error, null);
  const gone = await admin.auth.admin.getUserById(created.user!.id);
  assert.equal(gone.error?.status, 404);
});

Deno.test("auth: an Aide function accepts a session's token and refuses it once expired", async () => {
  const { session } = await confirmedUser("fn");
  const ok = await call(`${FUNCTIONS_URL}/account/me`, { token: session.access_token });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.id ?? ok.body.user_id ?? ok.body.profile?.id, session.user.id);
  // The same session's claims, expired a second ago (jwt_expiry passed), signed by the stack.
  const [, payload] = session.access_token.split(".");
  const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
  const now = Math.floor(Date.now() / 1000);
  const expired = await signJwt({ ...claims, iat: now - 3601, exp: now - 1 }, readKeys(cfg));
  const refused = await call(`${FUNCTIONS_URL}/account/me`, { token: expired });
  assert.equal(refused.status, 401);
  const user = await authClient().auth.getUser(expired);
  assert.equal(user.error?.code, "bad_jwt");
});

Deno.test("auth: settings, health and the mail catcher", async () => {
  const settings = await (await fetch(`${AUTH_URL}/settings`)).json();
  assert.equal(settings.external.email, true);
  assert.equal(settings.disable_signup, false);
  assert.equal(settings.mailer_autoconfirm, false, "config.toml turns confirmations on");
  const health = await (await fetch(`${AUTH_URL}/health`)).json();
  assert.equal(health.name, "GoTrue");
  const all = await (await fetch(`${AUTH_URL}/_mail`)).json();
  assert.ok(Array.isArray(all.mails));
});

Deno.test("auth: a password reset mail signs the user in to choose a new password", async () => {
  const { email } = await confirmedUser("reset");
  const client = authClient();
  assert.equal((await client.auth.resetPasswordForEmail(email)).error, null);
  const mail = await lastMail(email, 2);
  assert.equal(mail.subject, "Reset Your Password");
  const fragment = fragmentSession(await followLink(mail.link));
  assert.equal(fragment.type, "recovery");
  await client.auth.setSession({
    access_token: fragment.access_token,
    refresh_token: fragment.refresh_token,
  });
  const newPassword = "a brand new password";
  assert.equal((await client.auth.updateUser({ password: newPassword })).error, null);
  const signedIn = await authClient().auth.signInWithPassword({ email, password: newPassword });
  assert.equal(signedIn.error, null);
  // An unknown address gets the same answer and no mail.
  const unknown = newEmail("nobody");
  assert.equal((await authClient().auth.resetPasswordForEmail(unknown)).error, null);
  assert.equal((await mailsTo(unknown)).length, 0);
});

Deno.test("auth: an email change is confirmed from the new address", async () => {
  const { email, client } = await confirmedUser("move");
  const next = newEmail("moved");
  const { data, error } = await client.auth.updateUser({ email: next });
  assert.equal(error, null);
  assert.equal(data.user?.email, email, "unchanged until confirmed");
  assert.equal(data.user?.new_email, next);
  const mail = await lastMail(next);
  assert.equal(mail.subject, "Confirm Email Change");
  const fragment = fragmentSession(await followLink(mail.link));
  assert.equal(fragment.type, "email_change");
  const { data: after } = await client.auth.getUser(fragment.access_token);
  assert.equal(after.user?.email, next);
  const old = await authClient().auth.signInWithPassword({ email, password: PASSWORD });
  assert.equal(old.error?.code, "invalid_credentials");
  const moved = await authClient().auth.signInWithPassword({ email: next, password: PASSWORD });
  assert.equal(moved.error, null);
});
