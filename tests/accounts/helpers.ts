// Helpers for the accounts tests: admin users, test models with their
// own prices (so no test changes a price other tests rely on), and the catalog's view of which
// tables hold a user's rows.
import { type ChatUser, chatUser, withDb } from "../_support/chat.ts";

export async function adminUser(prefix = "admin"): Promise<ChatUser> {
  const u = await chatUser(prefix);
  await withDb((sql) => sql`update public.profiles set role = 'admin' where id = ${u.userId}`);
  return u;
}

export interface TestPrice {
  input: number;
  output: number;
  cachedRead: number;
  cacheWrite: number;
  reasoning: number | null;
}

/** A chat model of its own (served by the fake provider) with one price from 2020 on. */
export async function testModel(provider: "openai" | "anthropic", price: TestPrice) {
  const alias = `test-${provider}-${crypto.randomUUID().slice(0, 8)}`;
  const providerModel = provider === "openai" ? "gpt-5.2" : "claude-sonnet-4-6";
  await withDb(async (sql) => {
    await sql`insert into public.models (alias, provider, provider_model, display_name, purpose,
                context_window, max_output_tokens, capabilities)
              values (${alias}, ${provider}, ${providerModel}, ${alias}, 'chat', 200000, 8192, '{}')`;
    await sql`insert into public.model_prices (model_alias, effective_from, input_per_mtok,
                output_per_mtok, cached_read_per_mtok, cache_write_per_mtok, reasoning_per_mtok)
              values (${alias}, '2020-01-01', ${price.input}, ${price.output}, ${price.cachedRead},
                      ${price.cacheWrite}, ${price.reasoning})`;
  });
  return alias;
}

/**
 * Every (table, column) in public that can hold a user's id, found in the catalog on its own
 * (not through the code under test): uuid columns named user_id or owner_id, columns with a
 * foreign key to auth.users, and profiles.id.
 */
export function userColumns(sql: Parameters<Parameters<typeof withDb>[0]>[0]) {
  return sql<{ table_name: string; column_name: string }[]>`
    select distinct c.relname::text as table_name, a.attname::text as column_name
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = 'public' and c.relkind in ('r', 'p')
      and ((a.atttypid = 'uuid'::regtype and a.attname in ('user_id', 'owner_id'))
           or (c.relname = 'profiles' and a.attname = 'id')
           or exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'f'
                      and k.confrelid = 'auth.users'::regclass and a.attnum = any(k.conkey)))
    order by 1, 2`;
}

/** Rows holding the user's id, per "table.column" of userColumns(). */
export function userRowCounts(userId: string) {
  return withDb(async (sql) => {
    const counts: Record<string, number> = {};
    for (const { table_name, column_name } of await userColumns(sql)) {
      const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
      const [{ n }] = await sql.unsafe(
        `select count(*)::int as n from public.${q(table_name)} where ${q(column_name)} = $1`,
        [userId],
      );
      counts[`${table_name}.${column_name}`] = n;
    }
    return counts;
  });
}
