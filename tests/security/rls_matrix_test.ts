// The RLS matrix: every table and view of the exposed schemas, through PostgREST with real JWTs,
// as the owner of a row, another user, an admin and anon: select, insert, update and delete.
// What each caller may do is declared once per table in table_access.ts; this file creates real
// rows for the owner (fixtures, with SQL as the superuser), tries every cell, and after every
// write attempt checks the stored rows: written when allowed, untouched when refused.
import assert from "node:assert/strict";
import { join } from "node:path";
import { marker } from "../_support/chat.ts";
import { call, cfg, connect, newUser, REST_URL } from "../_support/stack.ts";
import { ROOT } from "../../local/config.ts";
import { type Access, type Read, TABLE_ACCESS, type Write } from "./table_access.ts";

/** The schemas PostgREST serves (postgrest.conf db-schemas; supabase/config.toml [api] schemas). */
const EXPOSED_SCHEMAS = ["public"];

type Sql = ReturnType<typeof connect>;
/** Equality filters: PostgREST `col=eq.value` and SQL `col = 'value'`. */
type Filter = Record<string, string | number>;

interface Fixture {
  /** Exactly the owner's seeded row(s). */
  mine: Filter;
  /** shared-readable tables: a row of the owner's that every signed-in user may read. */
  shared?: Filter;
  /** A new row for the owner (a fresh one each call) and the filter that finds it. */
  insert: () => Promise<{ body: Record<string, unknown>; find: Filter }> | {
    body: Record<string, unknown>;
    find: Filter;
  };
  /** A change to the seeded rows, in a column the owner may change where they may update. */
  update: Record<string, unknown>;
  /** Where the superuser counts the rows, when the declared relation shows only the caller's
   * (the analytics views read a materialized view through a function that filters by caller). */
  counted?: string;
}

type Ids = { owner: string; grantee: string };

// ---- fixtures: one per declared table -------------------------------------------------------

const uuid = () => crypto.randomUUID();
const at2030 = (seconds = 0) => new Date(Date.UTC(2030, 0, 1) + seconds * 1000).toISOString();

async function conversation(sql: Sql, owner: string): Promise<string> {
  const [c] = await sql`insert into public.conversations (user_id, title, model)
                        values (${owner}, 'rls matrix', 'gpt-5.2') returning id`;
  return c.id;
}

/** A document stored as already indexed, so no ingestion runs on it while the matrix does. */
async function document(sql: Sql, owner: string, visibility: "private" | "shared") {
  const content = `rls matrix ${marker()}`;
  const [d] = await sql`
    insert into public.documents (owner_id, kind, title, visibility, content, indexed_hash, status)
    values (${owner}, 'note', 'rls matrix', ${visibility}, ${content},
            encode(sha256(convert_to(${content}::text, 'UTF8')), 'hex'), 'ready')
    returning id`;
  return d.id as string;
}

async function ledgerRow(sql: Sql, owner: string, model: string) {
  const [r] = await sql`
    insert into public.usage_ledger (call_id, user_id, product_step, provider, model, provider_model,
                                     status, input_tokens, output_tokens)
    values (${uuid()}, ${owner}, 'chat', 'openai', ${model}, 'gpt-5.2', 'ok', 10, 5) returning id`;
  return r.id as string;
}

async function model(sql: Sql): Promise<string> {
  const alias = marker("rls-model");
  await sql`insert into public.models (alias, provider, provider_model, display_name,
                                       context_window, max_output_tokens)
            values (${alias}, 'openai', 'gpt-5.2', 'RLS matrix', 1000, 100)`;
  return alias;
}

async function linkedAccount(sql: Sql, owner: string): Promise<string> {
  const [a] = await sql`insert into public.linked_accounts (user_id, provider, provider_account_id)
                        values (${owner}, 'slack', ${marker("T")}) returning id`;
  return a.id;
}

async function thread(sql: Sql, owner: string): Promise<string> {
  const [t] = await sql`insert into public.threads (user_id, source, external_id, subject)
                        values (${owner}, 'slack', ${marker("C")}, 'rls matrix') returning id`;
  return t.id;
}

async function inboxEvent(sql: Sql, owner: string): Promise<string> {
  const [e] =
    await sql`insert into public.events (user_id, source, external_id, event_type, body, occurred_at)
                        values (${owner}, 'slack', ${marker("C:1")}, 'message', 'rls matrix', now())
                        returning id`;
  return e.id;
}

const FIXTURES: Record<string, (sql: Sql, ids: Ids) => Promise<Fixture> | Fixture> = {
  profiles: (_sql, { owner }) => ({
    mine: { id: owner },
    insert: () => {
      const id = uuid();
      return { body: { id, email: `${id}@example.com` }, find: { id } };
    },
    update: { display_name: marker("renamed") },
  }),

  conversations: async (sql, { owner }) => ({
    mine: { id: await conversation(sql, owner) },
    insert: () => {
      const id = uuid();
      return { body: { id, user_id: owner, model: "gpt-5.2", title: "inserted" }, find: { id } };
    },
    update: { title: marker("renamed") },
  }),

  messages: async (sql, { owner }) => {
    const conv = await conversation(sql, owner);
    const [m] =
      await sql`insert into public.messages (conversation_id, user_id, role, content, parts)
                          values (${conv}, ${owner}, 'user', 'hello',
                                  '[{"type": "text", "text": "hello"}]') returning id`;
    return {
      mine: { id: m.id },
      insert: () => {
        const id = uuid();
        const body = {
          id,
          conversation_id: conv,
          user_id: owner,
          role: "user",
          content: "hi",
          parts: [],
        };
        return { body, find: { id } };
      },
      update: { stop_requested_at: at2030() },
    };
  },

  tool_usage: async (sql, { owner }) => {
    const conv = await conversation(sql, owner);
    const parts = sql.json([{
      type: "tool_result",
      tool_call_id: "call_1",
      name: "get_current_time",
      output: {},
      is_error: false,
      duration_ms: 7,
    }]);
    const [m] =
      await sql`insert into public.messages (conversation_id, user_id, role, status, parts)
                          values (${conv}, ${owner}, 'assistant', 'complete', ${parts})
                          returning id`;
    return {
      mine: { message_id: m.id },
      insert: () => {
        const id = uuid();
        const body = { message_id: id, conversation_id: conv, user_id: owner, tool_name: "x" };
        return { body, find: { message_id: id } };
      },
      update: { tool_name: "renamed" },
    };
  },

  usage_ledger: async (sql, { owner }) => ({
    mine: { id: await ledgerRow(sql, owner, marker("model")) },
    insert: () => {
      const call_id = uuid();
      const body = {
        call_id,
        user_id: owner,
        product_step: "chat",
        provider: "openai",
        model: "gpt-5.2",
        provider_model: "gpt-5.2",
        status: "ok",
      };
      return { body, find: { call_id } };
    },
    update: { output_tokens: 999 },
  }),

  usage_daily: async (sql, { owner }) => {
    const model = marker("model");
    await ledgerRow(sql, owner, model); // the ledger's roll-up trigger writes the daily row
    return {
      mine: { user_id: owner, model },
      insert: () => {
        const m = marker("model");
        const body = {
          user_id: owner,
          day: "2030-01-01",
          model: m,
          product: "chat",
          product_step: "chat",
        };
        return { body, find: { model: m } };
      },
      update: { calls: 999 },
    };
  },

  rate_limit_counters: async (sql, { owner }) => {
    const route = marker("route");
    await sql`insert into public.rate_limit_counters (user_id, route_class, window_start, count)
              values (${owner}, ${route}, now(), 1)`;
    return {
      mine: { user_id: owner, route_class: route },
      insert: () => {
        const r = marker("route");
        const body = {
          user_id: owner,
          route_class: r,
          window_start: new Date().toISOString(),
          count: 1,
        };
        return { body, find: { route_class: r } };
      },
      update: { count: 999 },
    };
  },

  documents: async (sql, { owner }) => ({
    mine: { id: await document(sql, owner, "private") },
    shared: { id: await document(sql, owner, "shared") },
    insert: () => {
      const id = uuid();
      const body = {
        id,
        owner_id: owner,
        kind: "note",
        title: "inserted",
        content: marker("note"),
      };
      return { body, find: { id } };
    },
    update: { title: marker("renamed") },
  }),

  document_grants: async (sql, { owner, grantee }) => {
    const doc = await document(sql, owner, "private");
    await sql`insert into public.document_grants (document_id, user_id) values (${doc}, ${grantee})`;
    return {
      mine: { document_id: doc },
      insert: async () => {
        const [u] = await sql`insert into auth.users (email) values (${`${
          marker("grantee")
        }@example.com`})
                              returning id`;
        return {
          body: { document_id: doc, user_id: u.id },
          find: { document_id: doc, user_id: u.id },
        };
      },
      update: { granted_at: at2030() },
    };
  },

  search_index: async (sql, { owner }) => {
    const chunk = async (visibility: string) => {
      const id = uuid();
      await sql`insert into public.search_index (owner_id, visibility, object_type, object_id,
                                                 chunk_index, content)
                values (${owner}, ${visibility}, 'note', ${id}, 0, ${`rls matrix ${marker()}`})`;
      return id;
    };
    return {
      mine: { object_id: await chunk("private") },
      shared: { object_id: await chunk("shared") },
      insert: () => {
        const id = uuid();
        const body = {
          owner_id: owner,
          object_type: "note",
          object_id: id,
          chunk_index: 0,
          content: "x",
        };
        return { body, find: { object_id: id } };
      },
      update: { content: "changed" },
    };
  },

  ingestion_jobs: async (sql, { owner }) => {
    const doc = await document(sql, owner, "private");
    await sql`insert into public.ingestion_jobs (document_id, owner_id, status)
              values (${doc}, ${owner}, 'done')`;
    return {
      mine: { document_id: doc },
      insert: async () => {
        const d = await document(sql, owner, "private");
        return { body: { document_id: d, owner_id: owner }, find: { document_id: d } };
      },
      update: { attempts: 99 },
    };
  },

  linked_accounts: async (sql, { owner }) => ({
    mine: { id: await linkedAccount(sql, owner) },
    insert: () => {
      const id = uuid();
      const body = { id, user_id: owner, provider: "slack", provider_account_id: marker("T") };
      return { body, find: { id } };
    },
    update: { status: "revoked" },
  }),

  oauth_tokens: async (sql, { owner }) => {
    const account = await linkedAccount(sql, owner);
    const [t] = await sql`
      insert into public.oauth_tokens (user_id, linked_account_id, token_type, access_token_enc, key_id)
      values (${owner}, ${account}, 'bearer', 'v1.k1.aXY.Y2lwaGVy', 'k1') returning id`;
    return {
      mine: { id: t.id },
      insert: async () => {
        const id = uuid();
        const body = {
          id,
          user_id: owner,
          linked_account_id: await linkedAccount(sql, owner),
          token_type: "bearer",
          access_token_enc: "v1.k1.aXY.Y2lwaGVy",
          key_id: "k1",
        };
        return { body, find: { id } };
      },
      update: { scopes: "changed" },
    };
  },

  threads: async (sql, { owner }) => ({
    mine: { id: await thread(sql, owner) },
    insert: () => {
      const id = uuid();
      return {
        body: { id, user_id: owner, source: "slack", external_id: marker("C") },
        find: { id },
      };
    },
    update: { subject: "changed" },
  }),

  events: async (sql, { owner }) => ({
    mine: { id: await inboxEvent(sql, owner) },
    insert: () => {
      const id = uuid();
      const body = {
        id,
        user_id: owner,
        source: "slack",
        external_id: marker("C1:1"),
        event_type: "message",
        occurred_at: at2030(),
        expires_at: at2030(3600),
      };
      return { body, find: { id } };
    },
    update: { body: "changed" },
  }),

  entities: async (sql, { owner }) => {
    const [e] = await sql`insert into public.entities (user_id, kind, name, aliases)
                          values (${owner}, 'person', 'Dana', '["email:dana@example.com"]') returning id`;
    return {
      mine: { id: e.id },
      insert: () => {
        const id = uuid();
        return { body: { id, user_id: owner, kind: "person", name: "Eve" }, find: { id } };
      },
      update: { name: "changed" },
    };
  },

  notes: async (sql, { owner }) => {
    const [n] = await sql`insert into public.notes (user_id, title, body)
                          values (${owner}, 'rls matrix', ${`note ${marker()}`}) returning id`;
    return {
      mine: { id: n.id },
      insert: () => {
        const id = uuid();
        return { body: { id, user_id: owner, body: "inserted" }, find: { id } };
      },
      update: { title: marker("renamed") },
    };
  },

  index_jobs: async (sql, { owner }) => {
    const id = uuid();
    await sql`insert into public.index_jobs (object_type, object_id, owner_id, status)
              values ('note', ${id}, ${owner}, 'done')`;
    return {
      mine: { object_id: id },
      insert: () => {
        const other = uuid();
        return {
          body: { object_type: "note", object_id: other, owner_id: owner },
          find: { object_id: other },
        };
      },
      update: { attempts: 99 },
    };
  },

  job_runs: async (sql) => {
    const [r] = await sql`insert into public.job_runs (run_id, job, step, status)
                          values (${uuid()}, 'retention', ${
      marker("rls_step")
    }, 'done') returning id`;
    return {
      mine: { id: r.id },
      insert: () => {
        const run_id = uuid();
        return { body: { run_id, job: "retention", step: "inserted" }, find: { run_id } };
      },
      update: { status: "failed" },
    };
  },

  app_settings: async (sql) => {
    const key = `test.${marker("rls")}`;
    await sql`insert into public.app_settings (key, value, description) values (${key}, '1', 'rls matrix')`;
    return {
      mine: { key },
      insert: () => {
        const k = `test.${marker("rls")}`;
        return { body: { key: k, value: 1 }, find: { key: k } };
      },
      update: { description: "changed" },
    };
  },

  models: async (sql) => ({
    mine: { alias: await model(sql) },
    insert: () => {
      const alias = marker("rls-model");
      const body = {
        alias,
        provider: "openai",
        provider_model: "gpt-5.2",
        display_name: "inserted",
        context_window: 1000,
        max_output_tokens: 100,
        enabled: false,
      };
      return { body, find: { alias } };
    },
    update: { display_name: "renamed" },
  }),

  model_prices: async (sql) => {
    const alias = await model(sql);
    const [p] =
      await sql`insert into public.model_prices (model_alias, effective_from, input_per_mtok,
                            output_per_mtok, cached_read_per_mtok, cache_write_per_mtok)
                          values (${alias}, '2020-01-01', 1, 1, 0, 0) returning id`;
    let n = 0;
    return {
      mine: { id: p.id },
      insert: () => {
        const from = at2030(++n);
        const body = {
          model_alias: alias,
          effective_from: from,
          input_per_mtok: 2,
          output_per_mtok: 2,
          cached_read_per_mtok: 0,
          cache_write_per_mtok: 0,
        };
        return { body, find: { model_alias: alias, effective_from: from } };
      },
      update: { input_per_mtok: 99 },
    };
  },
};

async function goal(sql: Sql, owner: string): Promise<string> {
  const [g] = await sql`insert into public.goals (user_id, title) values (${owner}, 'rls matrix')
                        returning id`;
  return g.id;
}

/** A task of the owner's scheduled in the past, and the analytics refreshed to include it. */
async function analytics(sql: Sql, owner: string, view: string): Promise<Fixture> {
  await sql`insert into public.tasks (user_id, title, scheduled_at, duration_minutes, status)
            values (${owner}, 'rls matrix', '2029-12-31T09:00:00Z', 30, 'done')`;
  await sql`select private.refresh_planner_analytics(true)`;
  return {
    mine: { user_id: owner },
    insert: () => ({
      body: { user_id: owner, planned: 1 },
      find: { user_id: owner, planned: 1234 },
    }),
    update: { planned: 1234 },
    counted: `private.${view}`,
  };
}

const PLANNER_FIXTURES: typeof FIXTURES = {
  goals: async (sql, { owner }) => ({
    mine: { id: await goal(sql, owner) },
    insert: () => {
      const id = uuid();
      return { body: { id, user_id: owner, title: "inserted" }, find: { id } };
    },
    update: { title: marker("renamed") },
  }),

  micro_goals: async (sql, { owner }) => {
    const g = await goal(sql, owner);
    const [m] = await sql`insert into public.micro_goals (goal_id, user_id, position, title)
                          values (${g}, ${owner}, 1, 'first') returning id`;
    let position = 1;
    return {
      mine: { id: m.id },
      insert: () => {
        const id = uuid();
        const body = { id, goal_id: g, user_id: owner, position: ++position, title: "next" };
        return { body, find: { id } };
      },
      update: { title: marker("renamed") },
    };
  },

  task_series: async (sql, { owner }) => {
    const series = (id: string) => ({
      id,
      user_id: owner,
      title: "rls matrix",
      rrule: "FREQ=DAILY;COUNT=3",
      starts_local: "2030-01-01T09:00:00",
      time_zone: "Europe/Berlin",
      duration_minutes: 30,
    });
    const id = uuid();
    await sql`insert into public.task_series ${sql(series(id))}`;
    return {
      mine: { id },
      insert: () => {
        const id = uuid();
        return { body: series(id), find: { id } };
      },
      update: { title: marker("renamed") },
    };
  },

  tasks: async (sql, { owner }) => {
    const [t] = await sql`insert into public.tasks (user_id, title) values (${owner}, 'rls matrix')
                          returning id`;
    return {
      mine: { id: t.id },
      insert: () => {
        const id = uuid();
        return { body: { id, user_id: owner, title: "inserted", priority: "high" }, find: { id } };
      },
      update: { title: marker("renamed") },
    };
  },

  calendar_events: async (sql, { owner }) => {
    const event = (id: string) => ({
      id,
      user_id: owner,
      title: "rls matrix",
      start_at: at2030(),
      end_at: at2030(3600),
    });
    const id = uuid();
    await sql`insert into public.calendar_events ${sql(event(id))}`;
    return {
      mine: { id },
      insert: () => {
        const id = uuid();
        return { body: event(id), find: { id } };
      },
      update: { title: marker("renamed") },
    };
  },

  patterns: async (sql, { owner }) => {
    const pattern = (id: string) => ({
      id,
      user_id: owner,
      kind: "missed_slot",
      key: marker("mon-07"),
      description: "often missed",
      confidence: 0.5,
    });
    const id = uuid();
    await sql`insert into public.patterns ${sql(pattern(id))}`;
    return {
      mine: { id },
      insert: () => {
        const id = uuid();
        return { body: pattern(id), find: { id } };
      },
      update: { status: "confirmed" },
    };
  },

  plans: async (sql, { owner }) => {
    const conv = await conversation(sql, owner);
    const [p] = await sql`insert into public.plans (user_id, conversation_id, content)
                          values (${owner}, ${conv}, '{"title": "rls matrix"}') returning id`;
    return {
      mine: { id: p.id },
      insert: () => {
        const id = uuid();
        const body = { id, user_id: owner, conversation_id: conv, content: { title: "x" } };
        return { body, find: { id } };
      },
      update: { version: 2 },
    };
  },

  planner_categories: async (sql) => {
    const slug = marker("rls");
    await sql`insert into public.planner_categories (slug, label, description)
              values (${slug}, 'RLS', 'rls matrix')`;
    return {
      mine: { slug },
      insert: () => {
        const s = marker("rls");
        return { body: { slug: s, label: "x", description: "x" }, find: { slug: s } };
      },
      update: { label: "changed" },
    };
  },

  planner_weekly_stats: (sql, { owner }) => analytics(sql, owner, "planner_weekly_stats"),
  planner_missed_by_category: (sql, { owner }) =>
    analytics(sql, owner, "planner_missed_by_category"),
  planner_activity_heatmap: (sql, { owner }) => analytics(sql, owner, "planner_activity_heatmap"),
};
Object.assign(FIXTURES, PLANNER_FIXTURES);

const P256DH = "B" + "A".repeat(86); // 65 bytes, base64url
const REMINDER_FIXTURES: typeof FIXTURES = {
  phone_verifications: async (sql, { owner }) => {
    await sql`insert into public.phone_verifications (user_id, phone, expires_at)
              values (${owner}, '+15550001111', now() + interval '10 minutes')`;
    return {
      mine: { user_id: owner },
      insert: () => ({
        body: { user_id: owner, phone: "+15550002222", expires_at: at2030() },
        find: { phone: "+15550002222" },
      }),
      update: { phone: "+15550003333" },
    };
  },

  push_subscriptions: async (sql, { owner }) => {
    const subscription = (id: string) => ({
      id,
      user_id: owner,
      endpoint: `https://fcm.googleapis.com/fcm/send/${id}`,
      p256dh: P256DH,
      auth: "A".repeat(22),
    });
    const id = uuid();
    await sql`insert into public.push_subscriptions ${sql(subscription(id))}`;
    return {
      mine: { id },
      insert: () => {
        const id = uuid();
        return { body: subscription(id), find: { id } };
      },
      update: { user_agent: marker("renamed") },
    };
  },

  notification_log: async (sql, { owner }) => {
    const [t] = await sql`insert into public.tasks (user_id, title) values (${owner}, 'rls matrix')
                          returning id`;
    const entry = (id: string) => ({
      id,
      user_id: owner,
      task_id: t.id,
      stage: "push",
      starts_at: at2030(),
      status: "sent",
    });
    const id = uuid();
    await sql`insert into public.notification_log ${sql(entry(id))}`;
    return {
      mine: { id },
      insert: () => {
        const id = uuid();
        return { body: { ...entry(id), stage: "call" }, find: { id } };
      },
      update: { error: marker("changed") },
    };
  },
};
Object.assign(FIXTURES, REMINDER_FIXTURES);
// Inbox intelligence: prompts and what they produce (written by the prompts function).
const INBOX_FIXTURES: typeof FIXTURES = {
  summaries: async (sql, { owner }) => {
    const summary = (id: string) => ({
      id,
      user_id: owner,
      window_start: at2030(),
      window_end: at2030(3600),
      fingerprint: marker("fp"),
      content_json: sql.json({ overview: "rls matrix", key_events: [], themes: [] }),
    });
    const id = uuid();
    await sql`insert into public.summaries ${sql(summary(id))}`;
    return {
      mine: { id },
      insert: () => {
        const other = uuid();
        const { content_json: _, ...body } = summary(other);
        return { body: { ...body, content_json: { overview: "forged" } }, find: { id: other } };
      },
      update: { topic: marker("renamed") },
    };
  },

  prompts: async (sql, { owner }) => {
    const [p] =
      await sql`insert into public.prompts (user_id, prompt) values (${owner}, 'rls matrix')
                          returning id`;
    return {
      mine: { id: p.id },
      insert: () => {
        const id = uuid();
        return { body: { id, user_id: owner, prompt: "forged" }, find: { id } };
      },
      update: { status: "complete" },
    };
  },

  proposals: async (sql, { owner }) => {
    const [p] = await sql`
      insert into public.proposals (user_id, window_start, window_end, content_json, kind)
      values (${owner}, ${at2030()}, ${at2030(3600)}, '{"title": "rls matrix"}', 'follow_up')
      returning id`;
    return {
      mine: { id: p.id },
      insert: () => {
        const id = uuid();
        const body = {
          id,
          user_id: owner,
          window_start: at2030(),
          window_end: at2030(3600),
          content_json: { title: "forged" },
          kind: "other",
        };
        return { body, find: { id } };
      },
      update: { status: "dismissed" },
    };
  },

  drafts: async (sql, { owner }) => {
    const [d] = await sql`insert into public.drafts (user_id, kind, content_json)
                          values (${owner}, 'note', '{"text": "rls matrix"}') returning id`;
    return {
      mine: { id: d.id },
      insert: () => {
        const id = uuid();
        return {
          body: { id, user_id: owner, kind: "note", content_json: { text: "forged" } },
          find: { id },
        };
      },
      update: { status: "discarded" },
    };
  },

  inbox_digests: async (sql, { owner }) => {
    const [d] =
      await sql`insert into public.inbox_digests (user_id, frequency) values (${owner}, 'daily')
                          returning id`;
    return {
      mine: { id: d.id },
      insert: () => {
        const id = uuid();
        return { body: { id, user_id: owner, frequency: "hourly" }, find: { id } };
      },
      update: { frequency: "hourly" },
    };
  },
};
Object.assign(FIXTURES, INBOX_FIXTURES);
// Chat extras: feedback on replies, share links.
async function reply(sql: Sql, owner: string): Promise<string> {
  const conv = await conversation(sql, owner);
  const [m] =
    await sql`insert into public.messages (conversation_id, user_id, role, content, parts, model)
                        values (${conv}, ${owner}, 'assistant', 'a reply',
                                '[{"type": "text", "text": "a reply"}]', 'gpt-5.2') returning id`;
  return m.id;
}
const CHAT_EXTRA_FIXTURES: typeof FIXTURES = {
  message_feedback: async (sql, { owner }) => {
    const [f] = await sql`insert into public.message_feedback (user_id, message_id, rating)
                          values (${owner}, ${await reply(sql, owner)}, 'up') returning id`;
    return {
      mine: { id: f.id },
      insert: async () => {
        const message_id = await reply(sql, owner);
        return { body: { message_id, rating: "down" }, find: { message_id } };
      },
      update: { comment: marker("changed") },
    };
  },
  conversation_shares: async (sql, { owner }) => {
    const conv = await conversation(sql, owner);
    const hash = () =>
      Array.from({ length: 64 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");
    const [sh] =
      await sql`insert into public.conversation_shares (user_id, conversation_id, token_hash)
                           values (${owner}, ${conv}, ${hash()}) returning id`;
    return {
      mine: { id: sh.id },
      insert: () => {
        const token_hash = hash();
        return { body: { conversation_id: conv, token_hash }, find: { token_hash } };
      },
      update: { include_attachments: true },
    };
  },
  artifacts: async (sql, { owner }) => {
    const message = await reply(sql, owner);
    const [{ conversation_id }] =
      await sql`select conversation_id from public.messages where id = ${message}`;
    const row = (id: string) => ({
      id,
      user_id: owner,
      conversation_id,
      message_id: message,
      tool_call_id: marker("call"),
      kind: "file",
      path: "rls.md",
      mime: "text/markdown",
      size: 3,
      sha256: "0".repeat(64),
      object_path: `${owner}/${id}/rls.md`,
    });
    const id = uuid();
    await sql`insert into public.artifacts ${sql(row(id))}`;
    return {
      mine: { id },
      insert: () => {
        const other = uuid();
        return { body: row(other), find: { id: other } };
      },
      update: { path: "changed.md" },
    };
  },
  chat_attachments: async (sql, { owner }) => {
    const conv = await conversation(sql, owner);
    const row = () => {
      const id = uuid();
      return {
        id,
        conversation_id: conv,
        storage_path: `${owner}/${conv}/${id}/a.png`,
        media_type: "image/png",
        size_bytes: 1,
        sha256: "0".repeat(64),
        filename: "a.png",
      };
    };
    const [a] = await sql`insert into public.chat_attachments ${sql({ ...row(), user_id: owner })}
                          returning id`;
    return {
      mine: { id: a.id },
      insert: () => {
        const body = row();
        return { body, find: { id: body.id } };
      },
      update: { filename: "changed.png" },
    };
  },
};
Object.assign(FIXTURES, CHAT_EXTRA_FIXTURES);

// ---- who may do what ------------------------------------------------------------------------

type Caller = "anon" | "other" | "admin" | "owner";
/** The owner goes last: a delete they may make removes the row the others are tried on. */
const CALLERS: Caller[] = ["anon", "other", "admin", "owner"];

function mayRead(access: Access, who: Caller, row: "mine" | "shared"): boolean {
  if (who === "anon") return false;
  const admin = who === "admin" && access.admin.includes("select");
  const rules: Record<Read, boolean> = {
    "public-config": true,
    "service-only": false,
    "admin-only": who === "admin",
    "owner-only": who === "owner" || admin,
    "shared-readable": who === "owner" || row === "shared" || admin,
  };
  return rules[access.read];
}

function mayWrite(access: Access, who: Caller, op: Write): boolean {
  if (access.read === "service-only") return false;
  if (who === "owner") return access.owner.includes(op);
  if (who === "admin") return access.admin.includes(op);
  return false;
}

// ---- plumbing ---------------------------------------------------------------------------------

type People = Record<Exclude<Caller, "anon"> | "grantee", { userId: string; token: string }>;
let people: Promise<People> | undefined;
const getPeople = () =>
  people ??= (async () => {
    const [owner, other, admin, grantee] = await Promise.all(
      ["owner", "other", "admin", "grantee"].map((p) => newUser(`rls-${p}`)),
    );
    const sql = connect();
    await sql`update public.profiles set role = 'admin' where id = ${admin.userId}`;
    await sql.end();
    return { owner, other, admin, grantee };
  })();

const ident = (name: string) =>
  name.split(".").map((p) => `"${p.replaceAll('"', '""')}"`).join(".");
const literal = (v: unknown) => `'${String(v).replaceAll("'", "''")}'`;
const qualified = (
  table: string,
) => (table.includes(".") ? ident(table) : `public.${ident(table)}`);
const where = (f: Filter) =>
  Object.entries(f).map(([k, v]) => `${ident(k)} = ${literal(v)}`).join(" and ") || "true";

/** How many rows match, and a digest of their contents (as the superuser, past RLS). */
async function snapshot(sql: Sql, table: string, f: Filter) {
  const [r] = await sql.unsafe<{ n: number; state: string }[]>(
    `select count(*)::int as n, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as state
     from ${qualified(table)} t where ${where(f)}`,
  );
  return r;
}

function rest(
  who: Caller,
  users: People,
  method: string,
  table: string,
  filter?: Filter,
  body?: unknown,
) {
  const [schema, name] = table.includes(".") ? table.split(".") : ["public", table];
  const params = Object.entries(filter ?? {}).map(([k, v]) =>
    `${k}=eq.${encodeURIComponent(String(v))}`
  );
  const columns = TABLE_ACCESS[name]?.columns;
  if (columns) params.push(`select=${columns}`);
  const query = params.length ? `?${params.join("&")}` : "";
  return call(`${REST_URL}/${name}${query}`, {
    method,
    token: who === "anon" ? undefined : users[who].token,
    headers: {
      "content-type": "application/json",
      // An insert asking for the row back is refused when the caller may not read it, which
      // would hide an insert that goes through without it: ask for nothing back, as an attacker
      // would. Updates and deletes return the rows they changed.
      prefer: method === "POST" ? "return=minimal" : "return=representation",
      "accept-profile": schema,
      "content-profile": schema,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const brief = (text: string) => text.replace(/\s+/g, " ").slice(0, 160);
const denied = (status: number) => status === 401 || status === 403;

// ---- the tests ------------------------------------------------------------------------------

async function exposedRelations(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select case when n.nspname = 'public' then c.relname::text
                else n.nspname || '.' || c.relname end as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = any (${EXPOSED_SCHEMAS}) and c.relkind in ('r', 'p', 'v', 'm', 'f')
    order by 1`;
  return rows.map((r) => r.name);
}

Deno.test("RLS matrix: every table and view of the exposed schemas is declared, with a fixture", async () => {
  const sql = connect();
  try {
    const relations = await exposedRelations(sql);
    const undeclared = relations.filter((t) => !(t in TABLE_ACCESS));
    assert.deepEqual(
      undeclared,
      [],
      `not declared in tests/security/table_access.ts (say who may do what; add a fixture in rls_matrix_test.ts): ${undeclared}`,
    );
    const gone = Object.keys(TABLE_ACCESS).filter((t) => !relations.includes(t));
    assert.deepEqual(gone, [], `declared in table_access.ts but not in the database: ${gone}`);
    const noFixture = Object.keys(TABLE_ACCESS).filter((t) => !FIXTURES[t]);
    assert.deepEqual(noFixture, [], `no fixture in rls_matrix_test.ts for: ${noFixture}`);
  } finally {
    await sql.end();
  }
  // The stack serves exactly these schemas, as the project's config says.
  const conf = Deno.readTextFileSync(join(cfg.dir, "postgrest.conf"));
  const served = conf.match(/^db-schemas\s*=\s*"([^"]*)"/m)?.[1].split(",").map((s) => s.trim());
  assert.deepEqual(served, EXPOSED_SCHEMAS, "postgrest.conf db-schemas");
  const toml = Deno.readTextFileSync(join(ROOT, "supabase/config.toml"));
  const api = toml.slice(toml.indexOf("[api]")).match(/^schemas\s*=\s*\[([^\]]*)\]/m)?.[1] ?? "";
  const configured = [...api.matchAll(/"([^"]+)"/g)].map((m) => m[1])
    .filter((s) => s !== "graphql_public"); // pg_graphql's, none of our objects
  assert.deepEqual(configured, EXPOSED_SCHEMAS, "supabase/config.toml [api] schemas");
});

for (const [table, access] of Object.entries(TABLE_ACCESS)) {
  Deno.test(`RLS matrix: ${table} (${access.read})`, async () => {
    const fixture = FIXTURES[table];
    assert.ok(fixture, `${table}: no fixture in rls_matrix_test.ts`);
    const users = await getPeople();
    const sql = connect();
    const problems: string[] = [];
    try {
      assert.ok(
        (await exposedRelations(sql)).includes(table),
        `${table} is declared but does not exist`,
      );
      const rows = await fixture(sql, { owner: users.owner.userId, grantee: users.grantee.userId });
      const counted = rows.counted ?? table;
      const targets: ["mine" | "shared", Filter][] = [["mine", rows.mine]];
      if (rows.shared) targets.push(["shared", rows.shared]);
      if (access.read === "shared-readable" && !rows.shared) {
        problems.push("shared-readable, but the fixture has no shared row");
      }

      // select
      for (const [label, filter] of targets) {
        const { n } = await snapshot(sql, counted, filter);
        assert.ok(n > 0, `${table}: the fixture's ${label} rows are not there`);
        for (const who of CALLERS) {
          const res = await rest(who, users, "GET", table, filter);
          const seen = res.status === 200 && Array.isArray(res.body)
            ? res.body.length
            : denied(res.status)
            ? 0
            : -1;
          const want = mayRead(access, who, label) ? n : 0;
          if (seen !== want) {
            problems.push(
              `${who} select (${label} row): expected ${want} rows, got ${res.status} ${
                brief(res.text)
              }`,
            );
          }
        }
      }

      // insert: a new row of the owner's, by each caller
      for (const who of CALLERS) {
        const { body, find } = await rows.insert();
        const before = await snapshot(sql, counted, find);
        const res = await rest(who, users, "POST", table, undefined, body);
        const after = await snapshot(sql, counted, find);
        if (mayWrite(access, who, "insert")) {
          if (res.status !== 201 || after.n !== before.n + 1) {
            problems.push(
              `${who} insert: expected 201 and the row stored, got ${res.status} ${
                brief(res.text)
              } (${after.n} rows)`,
            );
          }
        } else {
          if (!denied(res.status)) {
            problems.push(`${who} insert: expected 401/403, got ${res.status} ${brief(res.text)}`);
          }
          if (after.state !== before.state) problems.push(`${who} insert: a row was stored`);
        }
      }

      // update and delete, on the owner's row (and the shared one: readable is not writable)
      for (const op of ["update", "delete"] as const) {
        for (const [label, filter] of targets) {
          for (const who of CALLERS) {
            if (label === "shared" && who === "owner") continue; // owner rights: on their own row
            const before = await snapshot(sql, counted, filter);
            const res = op === "update"
              ? await rest(who, users, "PATCH", table, filter, rows.update)
              : await rest(who, users, "DELETE", table, filter);
            const after = await snapshot(sql, counted, filter);
            const cell = `${who} ${op} (${label} row)`;
            if (mayWrite(access, who, op)) {
              const stored = op === "update"
                ? (await snapshot(sql, counted, { ...filter, ...(rows.update as Filter) })).n ===
                  before.n
                : after.n === 0;
              if (res.status >= 300 || !stored) {
                problems.push(
                  `${cell}: expected it to be stored, got ${res.status} ${brief(res.text)}`,
                );
              }
            } else {
              const nothing = res.status < 300 && Array.isArray(res.body) && res.body.length === 0;
              if (!denied(res.status) && !nothing) {
                problems.push(
                  `${cell}: expected 401/403 or no row affected, got ${res.status} ${
                    brief(res.text)
                  }`,
                );
              }
              if (after.state !== before.state) problems.push(`${cell}: the stored rows changed`);
            }
          }
        }
      }
    } finally {
      await sql.end();
    }
    assert.deepEqual(
      problems,
      [],
      `${table} (${access.read}): cells that differ from table_access.ts`,
    );
  });
}
