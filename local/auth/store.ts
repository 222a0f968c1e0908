// The Auth server's queries over the auth schema (users, identities, sessions, refresh tokens,
// PKCE flow states), with GoTrue's column names. Passwords are bcrypt hashes made by pgcrypto,
// the format GoTrue stores, so a dump of these tables loads into a hosted project unchanged.
import type postgres from "postgres";

// deno-lint-ignore no-explicit-any
export type Sql = postgres.Sql<any> | postgres.TransactionSql<any>;

export interface UserRow {
  id: string;
  aud: string;
  role: string;
  email: string | null;
  phone: string | null;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  phone_confirmed_at: Date | null;
  confirmed_at: Date | null;
  confirmation_token: string | null;
  confirmation_sent_at: Date | null;
  recovery_token: string | null;
  recovery_sent_at: Date | null;
  email_change: string | null;
  email_change_token_new: string | null;
  email_change_sent_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown>;
  raw_user_meta_data: Record<string, unknown>;
  banned_until: Date | null;
  created_at: Date;
  updated_at: Date;
  is_anonymous: boolean;
}

export interface IdentityRow {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Record<string, unknown>;
  provider: string;
  last_sign_in_at: Date | null;
  created_at: Date;
  updated_at: Date;
  email: string | null;
}

export const findUserById = async (sql: Sql, id: string) =>
  (await sql<UserRow[]>`select * from auth.users where id = ${id} and deleted_at is null`)[0];

export const findUserByEmail = async (sql: Sql, email: string) =>
  (await sql<UserRow[]>`select * from auth.users
                        where email = ${email.toLowerCase()} and is_sso_user = false
                          and deleted_at is null`)[0];

export const findUserByConfirmationToken = async (sql: Sql, token: string) =>
  (await sql<UserRow[]>`select * from auth.users where confirmation_token = ${token}`)[0];

export const findUserByRecoveryToken = async (sql: Sql, token: string) =>
  (await sql<UserRow[]>`select * from auth.users where recovery_token = ${token}`)[0];

export const findUserByEmailChangeToken = async (sql: Sql, token: string) =>
  (await sql<UserRow[]>`select * from auth.users where email_change_token_new = ${token}`)[0];

export const identitiesOf = (sql: Sql, userId: string) =>
  sql<IdentityRow[]>`select * from auth.identities where user_id = ${userId} order by created_at`;

/** A new email user and their email identity (GoTrue copies the identity data to the metadata). */
export async function insertEmailUser(
  sql: Sql,
  u: { id: string; email: string; password: string | null; data: Record<string, unknown> },
) {
  const identity = { sub: u.id, email: u.email, email_verified: false, phone_verified: false };
  const [user] = await sql<UserRow[]>`
    insert into auth.users (id, aud, role, email, encrypted_password, raw_app_meta_data,
                            raw_user_meta_data, email_change_token_new, email_change,
                            recovery_token, confirmation_token)
    values (${u.id}, 'authenticated', 'authenticated', ${u.email},
            case when ${u.password}::text is null then null
                 else extensions.crypt(${u.password}, extensions.gen_salt('bf', 10)) end,
            ${sql.json({ provider: "email", providers: ["email"] })},
            ${sql.json({ ...u.data, ...identity })}, '', '', '', '')
    returning *`;
  await sql`insert into auth.identities (provider_id, user_id, identity_data, provider)
            values (${u.id}, ${u.id}, ${sql.json(identity)}, 'email')`;
  return user;
}

export async function passwordMatches(sql: Sql, userId: string, password: string) {
  const [row] = await sql<{ ok: boolean }[]>`
    select encrypted_password is not null and encrypted_password <> ''
       and encrypted_password = extensions.crypt(${password}, encrypted_password) as ok
    from auth.users where id = ${userId}`;
  return row?.ok === true;
}

/** Marks the email confirmed, as GoTrue's User.Confirm does (metadata and identity included). */
export async function confirmEmail(sql: Sql, userId: string) {
  await sql`update auth.users
            set email_confirmed_at = coalesce(email_confirmed_at, now()), confirmation_token = '',
                raw_user_meta_data = raw_user_meta_data || '{"email_verified": true}',
                updated_at = now()
            where id = ${userId}`;
  await sql`update auth.identities
            set identity_data = identity_data || '{"email_verified": true}', updated_at = now()
            where user_id = ${userId} and provider = 'email'`;
}

export const setConfirmationToken = (sql: Sql, userId: string, token: string) =>
  sql`update auth.users set confirmation_token = ${token}, confirmation_sent_at = now()
      where id = ${userId}`;

export const setRecoveryToken = (sql: Sql, userId: string, token: string) =>
  sql`update auth.users set recovery_token = ${token}, recovery_sent_at = now()
      where id = ${userId}`;

export const clearRecoveryToken = (sql: Sql, userId: string) =>
  sql`update auth.users set recovery_token = '' where id = ${userId}`;

export const setEmailChange = (sql: Sql, userId: string, email: string, token: string) =>
  sql`update auth.users set email_change = ${email}, email_change_token_new = ${token},
                            email_change_sent_at = now()
      where id = ${userId}`;

export async function applyEmailChange(sql: Sql, userId: string) {
  await sql`update auth.users
            set email = email_change, email_change = '', email_change_token_new = '',
                email_confirmed_at = coalesce(email_confirmed_at, now()),
                raw_user_meta_data = raw_user_meta_data || jsonb_build_object('email', email_change),
                updated_at = now()
            where id = ${userId}`;
  await sql`update auth.identities i
            set identity_data = i.identity_data ||
                  jsonb_build_object('email', u.email, 'email_verified', true),
                updated_at = now()
            from auth.users u where u.id = i.user_id and i.user_id = ${userId}
              and i.provider = 'email'`;
}

export const setPassword = (sql: Sql, userId: string, password: string) =>
  sql`update auth.users
      set encrypted_password = extensions.crypt(${password}, extensions.gen_salt('bf', 10)),
          updated_at = now()
      where id = ${userId}`;

export const mergeUserMetadata = (sql: Sql, userId: string, data: Record<string, unknown>) =>
  sql`update auth.users set raw_user_meta_data = raw_user_meta_data || ${
    sql.json(data as postgres.JSONValue)
  },
                            updated_at = now()
      where id = ${userId}`;

export const touchSignIn = (sql: Sql, userId: string) =>
  sql`update auth.users set last_sign_in_at = now() where id = ${userId}`;

// --- Sessions and refresh tokens ----------------------------------------------------------------

export interface RefreshTokenRow {
  id: string;
  token: string;
  user_id: string;
  revoked: boolean;
  updated_at: Date;
  parent: string | null;
  session_id: string;
}

export async function insertSession(
  sql: Sql,
  s: { id: string; userId: string; method: string; userAgent: string | null; ip: string | null },
) {
  await sql`insert into auth.sessions (id, user_id, aal, refreshed_at, user_agent, ip)
            values (${s.id}, ${s.userId}, 'aal1', now(), ${s.userAgent}, ${s.ip})`;
  await sql`insert into auth.mfa_amr_claims (session_id, authentication_method)
            values (${s.id}, ${s.method})
            on conflict (session_id, authentication_method) do update set updated_at = now()`;
}

export const sessionExists = async (sql: Sql, id: string) =>
  (await sql`select 1 from auth.sessions where id = ${id}`).length > 0;

export const sessionAmr = (sql: Sql, id: string) =>
  sql<{ method: string; timestamp: number }[]>`
    select authentication_method as method, extract(epoch from updated_at)::bigint::int as timestamp
    from auth.mfa_amr_claims where session_id = ${id} order by updated_at desc`;

export const insertRefreshToken = (
  sql: Sql,
  t: { token: string; userId: string; sessionId: string; parent: string | null },
) =>
  sql`insert into auth.refresh_tokens (token, user_id, revoked, parent, session_id)
      values (${t.token}, ${t.userId}, false, ${t.parent}, ${t.sessionId})`;

/** The refresh token, locked for the rest of the transaction (concurrent refreshes queue). */
export const lockRefreshToken = async (sql: Sql, token: string) =>
  (await sql<RefreshTokenRow[]>`select * from auth.refresh_tokens where token = ${token}
                                for update`)[0];

export const activeRefreshToken = async (sql: Sql, sessionId: string) =>
  (await sql<RefreshTokenRow[]>`select * from auth.refresh_tokens
                                where session_id = ${sessionId} and revoked = false
                                order by id desc limit 1`)[0];

export const revokeRefreshToken = (sql: Sql, id: string) =>
  sql`update auth.refresh_tokens set revoked = true, updated_at = now() where id = ${id}`;

/** GoTrue's reuse detection: every token of the session stops working. */
export const revokeTokenFamily = (sql: Sql, sessionId: string) =>
  sql`update auth.refresh_tokens set revoked = true, updated_at = now()
      where session_id = ${sessionId} and revoked = false`;

export const touchSession = (sql: Sql, id: string) =>
  sql`update auth.sessions set refreshed_at = now(), updated_at = now() where id = ${id}`;

export const deleteSession = (sql: Sql, id: string) =>
  sql`delete from auth.sessions where id = ${id}`;

export const deleteSessionsOfUser = (sql: Sql, userId: string, except: string | null = null) =>
  sql`delete from auth.sessions where user_id = ${userId}
      and (${except}::uuid is null or id <> ${except}::uuid)`;

// --- PKCE ---------------------------------------------------------------------------------------

export interface FlowStateRow {
  id: string;
  user_id: string | null;
  auth_code: string;
  code_challenge_method: string;
  code_challenge: string;
  authentication_method: string;
  auth_code_issued_at: Date | null;
  created_at: Date;
}

export const insertFlowState = (
  sql: Sql,
  f: { userId: string; challenge: string; method: string; authMethod: string },
) =>
  sql`insert into auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge,
                                   provider_type, authentication_method)
      values (gen_random_uuid(), ${f.userId}, gen_random_uuid()::text, ${f.method},
              ${f.challenge}, 'email', ${f.authMethod})`;

/** Hands out the auth code of the user's newest flow for this method (the verify step). */
export const issueAuthCode = async (sql: Sql, userId: string, authMethod: string) =>
  (await sql<FlowStateRow[]>`
    update auth.flow_state set auth_code_issued_at = now(), updated_at = now()
    where id = (select id from auth.flow_state
                where user_id = ${userId} and authentication_method = ${authMethod}
                order by created_at desc limit 1)
    returning *`)[0];

/** Takes the flow for a code (single use: it is deleted). */
export const takeFlowState = async (sql: Sql, authCode: string) =>
  (await sql<FlowStateRow[]>`delete from auth.flow_state where auth_code = ${authCode}
                             returning *`)[0];

// --- Admin --------------------------------------------------------------------------------------

export const listUsers = (sql: Sql, limit: number, offset: number) =>
  sql<UserRow[]>`select * from auth.users where deleted_at is null
                 order by created_at desc, id limit ${limit} offset ${offset}`;

export const countUsers = async (sql: Sql) =>
  (await sql<{ n: number }[]>`select count(*)::int as n from auth.users
                              where deleted_at is null`)[0].n;

export const deleteUser = (sql: Sql, id: string) => sql`delete from auth.users where id = ${id}`;

export const setAppMetadata = (sql: Sql, userId: string, data: Record<string, unknown>) =>
  sql`update auth.users set raw_app_meta_data = raw_app_meta_data || ${
    sql.json(data as postgres.JSONValue)
  },
                            updated_at = now()
      where id = ${userId}`;

export const setBannedUntil = (sql: Sql, userId: string, until: Date | null) =>
  sql`update auth.users set banned_until = ${until}, updated_at = now() where id = ${userId}`;
