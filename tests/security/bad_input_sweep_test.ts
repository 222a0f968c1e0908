// For every operation in the OpenAPI document, generated bad requests: missing and forged
// auth, invalid ids, unknown, missing and wrong-typed fields, huge strings and arrays, bad
// cursors and query values, wrong content types, malformed JSON. Every answer must be a 4xx
// JSON error (never a 5xx), and nothing the users own may change.
import assert from "node:assert/strict";
import { chatUser, readSse, readyDocument, withDb } from "../_support/chat.ts";
import { FUNCTIONS_URL, until } from "../_support/stack.ts";

// deno-lint-ignore no-explicit-any
type Schema = Record<string, any>;
interface Case {
  label: string;
  url: string;
  init: RequestInit;
}

const doc = JSON.parse(await Deno.readTextFile("supabase/functions/openapi/openapi.json"));
const FORGED =
  "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4Iiwicm9sZSI6ImF1dGhlbnRpY2F0ZWQifQ.AAAA";

/** Values of the wrong type (or out of bounds) for a JSON Schema. */
function badValues(schema: Schema): unknown[] {
  const s = schema.anyOf?.find((x: Schema) => x.type !== "null") ?? schema;
  const values: unknown[] = [];
  switch (s.type) {
    case "string":
      values.push(12345, ["array"]);
      if (s.maxLength) values.push("x".repeat(s.maxLength + 1));
      if (s.format === "uuid") values.push("not-a-uuid");
      if (s.format === "date-time" || s.format === "date") values.push("yesterday");
      if (s.enum) values.push("not-one-of-them");
      break;
    case "integer":
    case "number":
      values.push("abc", 1.5e300);
      if (s.minimum !== undefined) values.push(s.minimum - 1);
      break;
    case "boolean":
      values.push("yes");
      break;
    case "array":
      values.push("not-an-array");
      if (s.maxItems) {
        values.push(
          Array.from({ length: s.maxItems + 1 }, () => s.items?.type === "string" ? "x" : 1),
        );
      }
      break;
    case "object":
      values.push("not-an-object", 42);
      break;
  }
  return values;
}

/** Bad values for a query parameter (everything arrives as a string). */
function badQueryValues(schema: Schema): string[] {
  const values = ["x".repeat(5000)];
  if (schema.type === "integer") values.push("abc", "0.5", "-1", "99999999");
  if (schema.enum) values.push("not-one-of-them");
  if (schema.format === "uuid") values.push("not-a-uuid");
  if (schema.format === "date-time" || schema.format === "date") values.push("yesterday");
  return values;
}

function casesFor(
  path: string,
  method: string,
  op: Schema,
  ids: Record<string, string>,
  tokens: { user: string; admin: string; secret: string },
): Case[] {
  const auth = op["x-aide-auth"] as string;
  const admin = path.startsWith("/admin") || path.startsWith("/usage/admin");
  const bearer = auth === "secret" ? tokens.secret : admin ? tokens.admin : tokens.user;
  const params = (op.parameters ?? []) as Schema[];
  const fill = (p: string, override: Record<string, string> = {}) =>
    p.replace(
      /\{(\w+)\}/g,
      (_, name) => override[name] ?? ids[`${path.split("/")[1]}.${name}`] ?? ids[name],
    );
  const requiredQuery = Object.fromEntries(
    params.filter((p) => p.in === "query" && p.required).map((p) => [p.name, "ok"]),
  );
  const url = (
    override: Record<string, string> = {},
    q: Record<string, string> = requiredQuery,
  ) => {
    const search = new URLSearchParams(q).toString();
    return `${FUNCTIONS_URL}${fill(path, override)}${search ? `?${search}` : ""}`;
  };
  const headers = (extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${bearer}`,
    ...extra,
  });
  const json = op.requestBody?.content?.["application/json"]?.schema as Schema | undefined;
  const validish = json ? "{}" : undefined;
  const send = (
    body?: string,
    type = "application/json",
    extraHeaders: Record<string, string> = {},
  ): RequestInit => ({
    method,
    headers: headers(body === undefined ? extraHeaders : { "content-type": type, ...extraHeaders }),
    body,
  });
  const cases: Case[] = [];
  const add = (label: string, u: string, init: RequestInit) =>
    cases.push({ label: `${method} ${path}: ${label}`, url: u, init });

  if (auth === "user" || auth === "jwt" || auth === "secret") {
    add("no token", url(), {
      method,
      body: validish,
      headers: validish ? { "content-type": "application/json" } : {},
    });
    add("forged token", url(), {
      method,
      body: validish,
      headers: {
        authorization: `Bearer ${FORGED}`,
        ...(validish ? { "content-type": "application/json" } : {}),
      },
    });
  }
  if (auth === "signature") {
    // GET routes with a proof of their own (OAuth callbacks: the state) take no body.
    const proofBody = method === "GET" ? undefined : "{}";
    add("no signature", url(), send(proofBody));
    add(
      "forged signature",
      url(),
      send(proofBody, "application/json", {
        "x-aide-timestamp": String(Math.floor(Date.now() / 1000)),
        "x-aide-signature": "v1=00",
      }),
    );
    return cases; // nothing else gets past the signature
  }
  for (const p of params.filter((p) => p.in === "path" && p.schema.format === "uuid")) {
    add(`invalid ${p.name}`, url({ [p.name]: "not-a-uuid" }), send(validish));
  }
  const queryParams = params.filter((p) => p.in === "query");
  if (queryParams.length) {
    add(
      "unknown query parameter",
      url({}, { ...requiredQuery, no_such_parameter: "1" }),
      send(validish),
    );
    for (const p of queryParams) {
      for (const value of badQueryValues(p.schema)) {
        add(
          `query ${p.name}=${value.slice(0, 20)}`,
          url({}, { ...requiredQuery, [p.name]: value }),
          send(validish),
        );
      }
    }
    for (const p of queryParams.filter((p) => p.required)) {
      const rest = { ...requiredQuery };
      delete rest[p.name];
      add(`missing query ${p.name}`, url({}, rest), send(validish));
    }
  }
  if (json) {
    add("malformed JSON", url(), send('{"a": '));
    add("JSON as text/plain", url(), send("{}", "text/plain"));
    add("an array, not an object", url(), send("[]"));
    add("unknown field only", url(), send(JSON.stringify({ no_such_field: 1 })));
    const variants = (json.anyOf ?? [json]) as Schema[];
    for (const variant of variants) {
      for (
        const [name, schema] of Object.entries((variant.properties ?? {}) as Record<string, Schema>)
      ) {
        for (const value of badValues(schema)) {
          add(
            `body ${name}=${JSON.stringify(value).slice(0, 30)}`,
            url(),
            send(JSON.stringify({ [name]: value })),
          );
        }
      }
    }
  }
  return cases;
}

/** A row of each planner table for the user, so the sweep's ids reach the routes' checks. */
function plannerIds(userId: string) {
  return withDb(async (sql) => {
    const [goal] =
      await sql`insert into public.goals (user_id, title) values (${userId}, 'Sweep goal') returning id`;
    const [task] =
      await sql`insert into public.tasks (user_id, title, goal_id, scheduled_at, duration_minutes)
                             values (${userId}, 'Sweep task', ${goal.id}, now() + interval '2 days', 30) returning id`;
    const [event] = await sql`insert into public.calendar_events (user_id, title, start_at, end_at)
                              values (${userId}, 'Sweep event', '2030-01-01T09:00Z', '2030-01-01T10:00Z') returning id`;
    const [pattern] =
      await sql`insert into public.patterns (user_id, kind, key, description, confidence)
                                values (${userId}, 'streak', 'current', 'Sweep', 1) returning id`;
    const [chat] = await sql`insert into public.conversations (user_id, kind, title, model)
                             values (${userId}, 'planner', 'Sweep planner', 'claude-sonnet-4.6') returning id`;
    const [plan] = await sql`insert into public.plans (user_id, conversation_id, content)
                             values (${userId}, ${chat.id}, '{"goal": {"title": "Sweep"}}') returning id`;
    return {
      "goals.id": goal.id as string,
      "tasks.id": task.id as string,
      "calendar.id": event.id as string,
      "patterns.id": pattern.id as string,
      "planner.id": plan.id as string,
    };
  });
}

Deno.test("every operation answers bad requests with a 4xx JSON error and changes nothing", async () => {
  const alice = await chatUser("sweep");
  const admin = await chatUser("sweepadmin");
  const conversation = await alice.createConversation();
  await readSse(await alice.send(conversation, { content: "hello" }));
  const assistant = (await alice.api(`/conversations/${conversation}`)).body.active_leaf_id;
  const document = await readyDocument(alice, { title: "Sweep", content: "text" });
  const form = new FormData();
  form.append("file", new File(["sweep"], "sweep.txt", { type: "text/plain" }));
  const attachment = (await alice.api(`/conversations/${conversation}/attachments`, {
    method: "POST",
    body: form,
  })).body.id;
  const [artifact] = await withDb((sql) =>
    sql`insert into public.artifacts (user_id, conversation_id, message_id, tool_call_id, kind, path,
                                      mime, size, sha256, object_path)
        values (${alice.userId}, ${conversation}, ${assistant}, 'sweep', 'file', 'sweep.md',
                'text/markdown', 0, ${"0".repeat(64)}, ${`${alice.userId}/sweep/sweep.md`})
        returning id`
  );
  const secret = await withDb(async (sql) => {
    await sql`update public.profiles set role = 'admin' where id = ${admin.userId}`;
    // Hundreds of requests: lift the rate limits for these two, so validation is what answers.
    await sql`update public.profiles set rate_limits = ${
      sql.json({
        write: { requests: 100000 },
        chat: { requests: 100000 },
        prompts: { requests: 100000 },
      })
    }
              where id in (${alice.userId}, ${admin.userId})`;
    const [row] =
      await sql`select decrypted_secret from vault.decrypted_secrets where name = 'aide_webhook_secret'`;
    return row.decrypted_secret as string;
  });
  const planner = await plannerIds(alice.userId);
  const inbox = await withDb(async (sql) => {
    const [prompt] = await sql`insert into public.prompts (user_id, prompt)
                               values (${alice.userId}, 'sweep') returning id`;
    const [summary] = await sql`
      insert into public.summaries (user_id, window_start, window_end, fingerprint, content_json)
      values (${alice.userId}, now() - interval '1 hour', now(), 'sweep', '{"overview": "sweep"}')
      returning id`;
    const [proposal] = await sql`
      insert into public.proposals (user_id, window_start, window_end, content_json, kind)
      values (${alice.userId}, now() - interval '1 hour', now(), '{"title": "sweep"}', 'other')
      returning id`;
    const [draft] = await sql`insert into public.drafts (user_id, kind, content_json)
                              values (${alice.userId}, 'note', '{"text": "sweep"}') returning id`;
    return { prompt: prompt.id, summary: summary.id, proposal: proposal.id, draft: draft.id };
  });
  const connectors = await withDb(async (sql) => {
    const [account] =
      await sql`insert into public.linked_accounts (user_id, provider, provider_account_id)
                                values (${alice.userId}, 'slack', ${crypto.randomUUID()}) returning id`;
    const [event] =
      await sql`insert into public.events (user_id, source, source_account_id, external_id, event_type,
                                                          body, occurred_at)
                              values (${alice.userId}, 'slack', ${account.id}, ${crypto.randomUUID()}, 'message',
                                      'sweep', now()) returning id`;
    const [note] =
      await sql`insert into public.notes (user_id, body) values (${alice.userId}, 'sweep') returning id`;
    return { account: account.id as string, event: event.id as string, note: note.id as string };
  });
  // Let the new event and note be indexed before the snapshot (the index is not the sweep's business).
  await withDb((sql) =>
    until("indexed", async () => {
      const [r] = await sql`select count(*)::int as n from public.index_jobs
                            where object_id in (${connectors.event}, ${connectors.note}) and status = 'done'`;
      return r.n === 2;
    }, 20_000)
  );
  const ids = {
    "connectors.id": connectors.account,
    "events.id": connectors.event,
    "notes.id": connectors.note,
    "prompts.id": inbox.prompt,
    "summaries.id": inbox.summary,
    "proposals.id": inbox.proposal,
    "drafts.id": inbox.draft,
    "conversations.id": conversation,
    messageId: assistant,
    attachmentId: attachment,
    artifactId: artifact.id,
    "documents.id": document,
    alias: "claude-sonnet-4.6",
    ...planner,
  };

  // What the sweep's users own, table by table (found in the catalog), and the model it targets.
  const snapshot = () =>
    withDb(async (sql) => {
      const owned = await sql`
        select c.table_name, c.column_name from information_schema.columns c
        join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.table_schema = 'public' and t.table_type = 'BASE TABLE' and c.data_type = 'uuid'
          and c.column_name in ('user_id', 'owner_id')
          and c.table_name <> 'rate_limit_counters' -- counting requests, bad ones included, is the point
        order by 1`;
      const users = [alice.userId, admin.userId];
      const state: Record<string, string> = {};
      for (const { table_name, column_name } of owned) {
        const [row] = await sql.unsafe(
          `select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h
           from public.${table_name} t where ${column_name} = any($1::uuid[])`,
          [users],
        );
        state[table_name] = `${row.n}:${row.h}`;
      }
      const [profiles] =
        await sql`select md5(string_agg(p::text, '|' order by p.id)) as h from public.profiles p where id = any(${users}::uuid[])`;
      const [model] =
        await sql`select md5(m::text) as h from public.models m where alias = 'claude-sonnet-4.6'`;
      const [prices] =
        await sql`select count(*)::int as n from public.model_prices where model_alias = 'claude-sonnet-4.6'`;
      return { ...state, profiles: profiles.h, model: model.h, prices: String(prices.n) };
    });
  const before = await snapshot();

  const failures: string[] = [];
  let count = 0;
  for (
    const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Schema>>)
  ) {
    for (const [method, op] of Object.entries(methods)) {
      for (
        const c of casesFor(path, method.toUpperCase(), op, ids, {
          user: alice.token,
          admin: admin.token,
          secret,
        })
      ) {
        count++;
        const res = await fetch(c.url, c.init);
        const text = await res.text();
        let body: Schema | null = null;
        try {
          body = JSON.parse(text);
        } catch { /* not JSON */ }
        const shaped = typeof body?.error?.code === "string" ||
          (typeof body?.code !== "undefined" && typeof body?.message === "string");
        if (res.status < 400 || res.status >= 500 || !shaped) {
          failures.push(
            `${c.label} -> ${res.status} ${text.slice(0, 160)}`,
          );
        }
      }
    }
  }
  assert.ok(count > 300, `only ${count} bad requests were generated`);
  assert.deepEqual(
    failures,
    [],
    `${failures.length} of ${count} bad requests were not refused cleanly`,
  );
  assert.deepEqual(await snapshot(), before, "a bad request changed stored data");
});
