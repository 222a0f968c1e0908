// The functions' database connection. User data is always read and written inside asUser(),
// a transaction that runs as the `authenticated` role with the caller's verified JWT claims,
// exactly as PostgREST runs a request, so Row Level Security applies. Writes no user may make
// (usage, assistant output) go through SECURITY DEFINER functions in the `private` schema.
import postgres from "postgres";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
export type JwtClaims = { sub: string; role?: string; email?: string; [claim: string]: unknown };

// On a hosted project, AIDE_DB_URL is the transaction pooler's connection string (port 6543;
// the platform's SUPABASE_DB_URL is the direct connection). Everything here works through it:
// session settings are transaction-local (set_config(..., true)), advisory locks are xact locks,
// nothing LISTENs, no prepared statements. Each instance opens at most `max` connections.
export const sql: Sql = postgres(Deno.env.get("AIDE_DB_URL") ?? Deno.env.get("SUPABASE_DB_URL")!, {
  max: Number(Deno.env.get("AIDE_DB_POOL_SIZE") ?? 10),
  // Supabase's transaction pooler does not support prepared statements.
  prepare: false,
  idle_timeout: 20,
  connect_timeout: 10,
  onnotice: () => {},
  // Counters are bigint in SQL; they stay far below 2^53, so plain numbers are safe in JSON.
  types: {
    bigint: {
      to: 20,
      from: [20],
      serialize: (x: number) => String(x),
      parse: (x: string) => Number(x),
    },
  },
});

/** Runs `fn` in a transaction as the user whose verified claims are given (RLS applies). */
export function asUser<T>(claims: JwtClaims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true),
                    set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
    return await fn(tx);
  }) as Promise<T>;
}

/** A value sent as jsonb (postgres.js's own type is stricter than our part types). */
export const jsonb = (value: unknown) => sql.json(value as postgres.JSONValue);
