// The OpenAPI document describes what the API really returns: real responses of the chat,
// knowledge, account, usage and admin functions are checked against the response schema the
// document gives for their status, with every object closed (a field the document does not name
// fails), and every JSON success response of those functions is sampled at least once.
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { chatUser, queueScript, readSse, readyDocument, withDb } from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";

// deno-lint-ignore no-explicit-any
type Schema = any;
const doc = JSON.parse(await Deno.readTextFile("supabase/functions/openapi/openapi.json"));

/** The functions whose responses this test samples. */
const FUNCTIONS = [
  "health",
  "models",
  "conversations",
  "shared",
  "documents",
  "usage",
  "account",
  "admin",
];
/** Operations not sampled here, and where they are covered instead. */
const ELSEWHERE: Record<string, string> = {
  "POST /documents/webhook": "signed: tests/knowledge/webhook_test.ts",
  "POST /account/phone/verify/send": "Twilio: tests/reminders/verification_test.ts",
  "POST /account/phone/verify/confirm": "Twilio: tests/reminders/verification_test.ts",
  "POST /account/whatsapp/opt-in": "needs a verified phone: tests/reminders/verification_test.ts",
  "DELETE /account/whatsapp/opt-in": "tests/reminders/verification_test.ts",
};

/** A component's schema by its $ref. */
const component = (ref: string) => doc.components.schemas[ref.replace("#/components/schemas/", "")];

/** `allOf` of objects (how a schema that extends another is written) as one object. */
function merged(schema: Schema): Schema {
  if (!schema?.allOf) return schema;
  const parts = schema.allOf.map((s: Schema) => merged(s.$ref ? component(s.$ref) : s));
  return {
    type: "object",
    properties: Object.assign({}, ...parts.map((s: Schema) => s.properties ?? {})),
    required: parts.flatMap((s: Schema) => s.required ?? []),
  };
}

/** Every object schema closed: the document must name every field a response has. */
function closed(schema: Schema): Schema {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== "object") return schema;
  const flat = merged(schema);
  const out: Schema = Object.fromEntries(Object.entries(flat).map(([k, v]) => [k, closed(v)]));
  if (out.$ref) out.$ref = out.$ref.replace(/^#/, "aide#");
  if (out.type === "object" && out.properties && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

const ajv = new Ajv2020({
  strict: false,
  allErrors: true,
  formats: {
    uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    "date-time": (s: string) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)),
    date: /^\d{4}-\d{2}-\d{2}$/,
    email: /^[^@\s]+@[^@\s]+$/,
    binary: true,
  },
});
ajv.addSchema({ $id: "aide", components: closed(doc.components) });
const sampled = new Set<string>();

/** Checks one response against the document: its status is documented, its body matches. */
async function check(method: string, path: string, res: Response) {
  const op = doc.paths[path]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${path} is not in the document`);
  const documented = op.responses[String(res.status)];
  const text = await res.text();
  assert.ok(documented, `${method} ${path} answered ${res.status}, not documented: ${text}`);
  const schema = documented.content?.["application/json"]?.schema;
  if (!schema) return;
  const validate = ajv.compile(closed(schema));
  const body = JSON.parse(text);
  assert.ok(
    validate(body),
    `${method} ${path} ${res.status} does not match the document: ${
      JSON.stringify(validate.errors?.slice(0, 5))
    }\n${text.slice(0, 1000)}`,
  );
  if (res.status < 300) sampled.add(`${method} ${path}`);
}

Deno.test("real responses match the OpenAPI document's response schemas", async () => {
  const alice = await chatUser("contract");
  const admin = await chatUser("contractadmin");
  await withDb((sql) => sql`update public.profiles set role = 'admin' where id = ${admin.userId}`);
  const call = (who: typeof alice, method: string, path: string, body?: unknown) =>
    fetch(`${FUNCTIONS_URL}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${who.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const at = async (
    who: typeof alice,
    method: string,
    template: string,
    params: Record<string, string> = {},
    body?: unknown,
    query = "",
  ) => {
    const path = template.replace(/\{(\w+)\}/g, (_, k) => params[k]);
    const res = await call(who, method, path + query, body);
    const copy = res.clone();
    await check(method, template, res);
    return copy.headers.get("content-type")?.includes("json") ? await copy.json() : copy;
  };

  await at(alice, "GET", "/health");
  await at(alice, "GET", "/models");

  // Conversations and a reply.
  const conversation = await at(alice, "POST", "/conversations", {}, { title: "Contract" });
  const id = conversation.id;
  await readSse(await call(alice, "POST", `/conversations/${id}/messages`, { content: "Hello" }));
  await at(alice, "GET", "/conversations", {}, undefined, "?limit=5");
  const full = await at(alice, "GET", "/conversations/{id}", { id });
  const messageId = full.messages.at(-1).id;
  await at(alice, "PATCH", "/conversations/{id}", { id }, { title: "Contract 2" });
  await at(alice, "POST", "/conversations/{id}/pin", { id });
  await at(alice, "GET", "/conversations/{id}/messages", { id });
  await at(alice, "POST", "/conversations/{id}/messages/{messageId}/stop", { id, messageId });
  await at(alice, "POST", "/conversations/{id}/messages/{messageId}/feedback", { id, messageId }, {
    rating: "up",
    comment: "Clear",
  });
  await at(alice, "GET", "/conversations/{id}/export", { id });
  const share = await at(alice, "POST", "/conversations/{id}/share", { id }, {});
  await at(alice, "GET", "/conversations/{id}/shares", { id });
  await at(alice, "DELETE", "/conversations/{id}/shares/{shareId}", { id, shareId: share.id });
  // A reply that makes a file (the fake calls create_artifact), then the conversation's files.
  const tag = `contract${crypto.randomUUID().slice(0, 8)}`;
  await queueScript("anthropic", {
    tool_calls: [{ name: "create_artifact", arguments: { path: "c.md", content: "# c" } }],
  }, { contains: tag });
  await readSse(await call(alice, "POST", `/conversations/${id}/messages`, { content: tag }));
  const { artifacts } = await at(alice, "GET", "/conversations/{id}/artifacts", { id });
  assert.equal(artifacts.length, 1);
  await at(alice, "GET", "/conversations/{id}/artifacts/{artifactId}", {
    id,
    artifactId: artifacts[0].id,
  });
  await at(alice, "GET", "/conversations/{id}/messages", { id }); // the artifact part
  const upload = (text: string, name: string) => {
    const form = new FormData();
    form.append("file", new File([text], name, { type: "text/plain" }));
    return fetch(`${FUNCTIONS_URL}/conversations/${id}/attachments`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.token}` },
      body: form,
    });
  };
  const attachmentRes = await upload("a note", "note.txt");
  const attachment = await attachmentRes.clone().json();
  await check("POST", "/conversations/{id}/attachments", attachmentRes);
  await at(alice, "DELETE", "/conversations/{id}/attachments/{attachmentId}", {
    id,
    attachmentId: attachment.id,
  });
  // A share with its files: the reader's copy (attachment and artifact parts) and a file.
  const sentFile = await upload("shared note", "shared.txt").then((r) => r.json());
  await readSse(
    await call(alice, "POST", `/conversations/${id}/messages`, {
      content: "With a file",
      attachments: [sentFile.id],
    }),
  );
  const withFiles = await at(alice, "POST", "/conversations/{id}/share", { id }, {
    include_attachments: true,
  });
  const copy = await at(alice, "GET", "/shared/{token}", { token: withFiles.token });
  const sharedTypes = copy.messages.flatMap((m: { parts: { type: string }[] }) =>
    m.parts.map((p) => p.type)
  );
  assert.ok(sharedTypes.includes("attachment") && sharedTypes.includes("artifact"), sharedTypes);
  await at(alice, "GET", "/shared/{token}/files/{fileId}", {
    token: withFiles.token,
    fileId: sentFile.id,
  });
  await at(alice, "GET", "/conversations/{id}", { id: crypto.randomUUID() }); // 404
  await at(alice, "POST", "/conversations", {}, { title: 5 }); // 400

  // Documents.
  const docId = await readyDocument(alice, { title: "Contract doc", content: "The sky is blue." });
  await at(alice, "POST", "/documents", {}, { title: "Second", content: "Grass is green." });
  await at(alice, "GET", "/documents");
  await at(alice, "GET", "/documents/{id}", { id: docId });
  await at(alice, "PATCH", "/documents/{id}", { id: docId }, { title: "Contract doc 2" });
  await at(alice, "GET", "/documents/search", {}, undefined, "?q=sky");

  // Account and usage.
  await at(alice, "GET", "/account/me");
  await at(alice, "PATCH", "/account/me", {}, { display_name: "Alice" });
  await at(alice, "GET", "/account/export");
  await at(alice, "GET", "/usage");
  await at(alice, "GET", "/usage/admin/top-users"); // 403

  // Admin.
  await at(admin, "GET", "/usage/admin/top-users");
  await at(admin, "GET", "/usage/admin/by-model");
  await at(admin, "GET", "/usage/admin/users", {}, undefined, "?limit=2");
  await at(admin, "GET", "/usage/admin/feedback");
  await at(admin, "GET", "/admin/models");
  const alias = `contract-${crypto.randomUUID().slice(0, 8)}`;
  await at(admin, "POST", "/admin/models", {}, {
    alias,
    provider: "openai",
    provider_model: "gpt-5.2",
    display_name: "Contract model",
    context_window: 1000,
    max_output_tokens: 100,
    price: {
      input_per_mtok: 1,
      output_per_mtok: 2,
      cached_read_per_mtok: 0.1,
      cache_write_per_mtok: 0,
    },
  });
  await at(admin, "PATCH", "/admin/models/{alias}", { alias }, { enabled: false });
  await at(admin, "GET", "/admin/models/{alias}/prices", { alias });
  await at(admin, "POST", "/admin/models/{alias}/prices", { alias }, {
    effective_from: new Date(Date.now() + 86_400_000).toISOString(),
    input_per_mtok: 2,
    output_per_mtok: 4,
    cached_read_per_mtok: 0.2,
    cache_write_per_mtok: 0,
  });

  // Deleting last: the document, the conversation, the account.
  await at(alice, "DELETE", "/documents/{id}", { id: docId });
  await at(alice, "DELETE", "/conversations/{id}", { id });
  await at(alice, "DELETE", "/account", {}, { confirm: "DELETE" });

  // Every JSON success response of these functions was sampled (or is covered elsewhere).
  const missing = Object.entries(doc.paths as Record<string, Record<string, Schema>>)
    .filter(([path]) => FUNCTIONS.includes(path.split("/")[1]))
    .flatMap(([path, item]) =>
      Object.entries(item).filter(([, op]) =>
        Object.entries(op.responses).some(([status, r]) =>
          Number(status) < 300 && (r as Schema).content?.["application/json"]
        )
      ).map(([method]) => `${method.toUpperCase()} ${path}`)
    )
    .filter((key) => !sampled.has(key) && !ELSEWHERE[key]);
  assert.deepEqual(missing, [], "operations with no sampled response");
});
