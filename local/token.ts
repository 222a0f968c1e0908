// User access tokens for a running local stack, as Supabase Auth would issue them after a
// sign-in: the user is created in auth.users if needed (with a confirmed email, as after a
// finished sign-up), a session is opened, and the token is an ES256 JWT signed with the
// stack's key. For scripts; apps and tests that sign in as users do go through /auth/v1.
// `npm run token -- alice@example.com` prints one; tests use the same code.
import postgres from "postgres";
import { join } from "node:path";
import { dbUrl, parseEnv, type StackConfig, stackConfig } from "./config.ts";
import { type SigningKeys, signJwt } from "./jwt.ts";

export interface IssuedToken {
  userId: string;
  email: string;
  token: string;
}

export function readKeys(cfg: StackConfig): SigningKeys {
  return JSON.parse(Deno.readTextFileSync(join(cfg.dir, "keys.json")));
}

/** Creates (or finds) the user with this email and returns a fresh access token for them. */
export async function issueUserToken(
  cfg: StackConfig,
  email: string,
  opts: { expiresIn?: number; keys?: SigningKeys; sql?: postgres.Sql } = {},
): Promise<IssuedToken> {
  const sql = opts.sql ?? postgres(dbUrl(cfg), { max: 1, onnotice: () => {} });
  try {
    const [user] = await sql<{ id: string }[]>`
      insert into auth.users (email, email_confirmed_at, last_sign_in_at)
      values (${email.toLowerCase()}, now(), now())
      on conflict (email) where is_sso_user = false do update
        set last_sign_in_at = now(), email_confirmed_at = coalesce(users.email_confirmed_at, now())
      returning id`;
    // A real session, so the token also works where Auth checks it (GET /auth/v1/user, logout).
    const sessionId = crypto.randomUUID();
    await sql`insert into auth.sessions (id, user_id, aal, refreshed_at)
              values (${sessionId}, ${user.id}, 'aal1', now())`;
    await sql`insert into auth.mfa_amr_claims (session_id, authentication_method)
              values (${sessionId}, 'password')`;
    const env = parseEnv(Deno.readTextFileSync(join(cfg.dir, "stack.env")));
    const iat = Math.floor(Date.now() / 1000);
    const token = await signJwt({
      iss: `${env.SUPABASE_URL}/auth/v1`,
      sub: user.id,
      aud: "authenticated",
      role: "authenticated",
      email: email.toLowerCase(),
      phone: "",
      app_metadata: { provider: "email", providers: ["email"] },
      user_metadata: {},
      aal: "aal1",
      amr: [{ method: "password", timestamp: iat }],
      session_id: sessionId,
      is_anonymous: false,
      iat,
      exp: iat + (opts.expiresIn ?? 3600),
    }, opts.keys ?? readKeys(cfg));
    return { userId: user.id, email: email.toLowerCase(), token };
  } finally {
    if (!opts.sql) await sql.end();
  }
}

if (import.meta.main) {
  const args = [...Deno.args];
  const take = (flag: string) => {
    const i = args.indexOf(flag);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const name = take("--stack") ?? "dev";
  const expiresIn = Number(take("--expires-in") ?? 3600);
  const email = args[0];
  if (!email || !/^[^@\s]+@[^@\s]+$/.test(email) || !(expiresIn > 0)) {
    console.error("usage: npm run token -- <email> [--expires-in seconds] [--stack dev|test]");
    Deno.exit(2);
  }
  try {
    console.log((await issueUserToken(stackConfig(name), email, { expiresIn })).token);
  } catch (e) {
    console.error(`could not issue a token: is the ${name} stack running (npm start)?\n${e}`);
    Deno.exit(1);
  }
}
