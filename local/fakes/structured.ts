/**
 * Structured output for the fake providers: a JSON value valid against the JSON Schema a request
 * asked for (OpenAI `response_format: json_schema`, Anthropic a forced tool's `input_schema`),
 * built from the prompt so flows run end to end without a script:
 * - ids (`format: uuid`, or properties named `id` / `*_id`) cite the uuids the prompt contains,
 *   in order, each at most once per array; an object that cites one takes its other fields
 *   (enums, timestamps, titles) from the prompt line where that uuid appears;
 * - an enum picks the value the context names: the cited line, then the keywords its property's
 *   description gives it ("value: words; other: words"), matched against the last user message;
 * - date-times come from the prompt (or now), other strings from the last user message's words;
 * - what may be null is null (`anyOf` with null, `type: [..., "null"]`);
 * - arrays of cited objects hold one per uuid (up to maxItems), other arrays one or two items.
 * Scripts still win: `text` (any JSON, valid or not) or `tool_calls`, and `invent_ids: n` makes
 * the first n cited ids random ones that appear nowhere in the prompt.
 */
import { isObject } from "./script.ts";

type Schema = Record<string, unknown>;

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const DATETIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})/g;
/** The nil and max uuids appear in zod's uuid pattern, i.e. in every schema: never cite them. */
const SCHEMA_UUIDS = new Set([
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
]);
const STOPWORDS = new Set(
  "a an and are as at be by for from has have i in is it me my of on or our so that the this to was we what with you your"
    .split(" "),
);

export interface PromptContext {
  /** Every input text of the request (system, messages). */
  texts: string[];
  lastUserText: string;
  /** The first user message: the data (a repair request only quotes it). */
  firstUserText?: string;
  /** How many cited ids to replace with invented ones (script `invent_ids`). */
  inventIds?: number;
}

/** A value valid against `schema`, built from the prompt. */
export function sampleJson(schema: Schema, prompt: PromptContext): unknown {
  // Ids come from the data (first user message) and the instructions, never from an earlier
  // answer or a repair request quoting it.
  const data = prompt.firstUserText ?? prompt.lastUserText;
  const system = prompt.texts.length > 1 && prompt.texts[0] !== data ? prompt.texts[0] : "";
  const all = [data, system].join("\n");
  const state: State = {
    root: schema,
    prompt,
    lines: [data, ...prompt.texts].join("\n").split("\n"),
    uuids: [...new Set((all.match(UUID) ?? []).map((u) => u.toLowerCase()))].filter((u) =>
      !SCHEMA_UUIDS.has(u)
    ),
    next: 0,
    invent: prompt.inventIds ?? 0,
    words: words(stripIds(prompt.lastUserText)),
  };
  return value(state, schema, { key: "", line: "", description: "" });
}

interface State {
  root: Schema;
  prompt: PromptContext;
  lines: string[];
  uuids: string[];
  /** Next uuid of the prompt to cite. */
  next: number;
  invent: number;
  words: string[];
}

/** Where a value sits: its property name, the prompt line it describes, its description. */
interface Place {
  key: string;
  line: string;
  description: string;
}

function value(s: State, schema: Schema, at: Place): unknown {
  schema = resolve(s, schema);
  const description = typeof schema.description === "string" ? schema.description : at.description;
  at = { ...at, description };
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum)) return pickEnum(s, schema.enum, at);
  const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(branches)) {
    const nonNull = branches.filter((b) => resolve(s, b).type !== "null");
    // What may be null stays null (a due date, a topic): the fake fills only what it must.
    if (nonNull.length < branches.length) return null;
    return value(s, nonNull[0] ?? branches[0], at);
  }
  if (Array.isArray(schema.allOf)) return value(s, Object.assign({}, ...schema.allOf), at);
  const type = Array.isArray(schema.type)
    ? (schema.type.includes("null") ? "null" : schema.type[0])
    : schema.type ?? (schema.properties ? "object" : schema.items ? "array" : "string");
  switch (type) {
    case "object":
      return object(s, schema, at);
    case "array":
      return array(s, schema, at);
    case "integer":
    case "number":
      return number(schema, type === "integer");
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return string(s, schema, at);
  }
}

function resolve(s: State, schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#")) return schema;
  let target: unknown = s.root;
  for (const part of ref.slice(2).split("/").filter(Boolean)) {
    target = isObject(target) ? target[part] : undefined;
  }
  return isObject(target) ? resolve(s, target) : {};
}

const isIdKey = (key: string) => key === "id" || /_id$/.test(key);

function isId(s: State, schema: Schema | undefined, key: string): boolean {
  if (!schema) return false;
  const r = resolve(s, schema);
  return r.format === "uuid" || (r.type === "string" && isIdKey(key) && !Array.isArray(r.enum));
}

function object(s: State, schema: Schema, at: Place): Record<string, unknown> {
  const props = (isObject(schema.properties) ? schema.properties : {}) as Record<string, Schema>;
  const out: Record<string, unknown> = {};
  // Ids first: the line that mentions the cited id is the context of the other fields.
  const keys = Object.keys(props).sort((a, b) =>
    Number(isId(s, props[b], b)) - Number(isId(s, props[a], a))
  );
  let line = at.line;
  for (const key of keys) {
    const v = value(s, props[key], { key, line, description: "" });
    out[key] = v;
    if (typeof v === "string" && isId(s, props[key], key)) {
      line = s.lines.find((l) => l.toLowerCase().includes(v)) ?? line;
    }
  }
  return out;
}

function array(s: State, schema: Schema, at: Place): unknown[] {
  const items = resolve(s, isObject(schema.items) ? schema.items : {});
  const min = Number(schema.minItems ?? 0);
  const max = Number(schema.maxItems ?? Infinity);
  const citing = items.type === "object" &&
    Object.entries((items.properties ?? {}) as Record<string, Schema>).some(([k, p]) =>
      isId(s, p, k)
    );
  // An array of enum values holds the values the context names, maybe none.
  if (Array.isArray(items.enum)) {
    const named = items.enum.filter((v) => enumScore(s, v, at) > 0);
    const chosen = named.length >= min ? named : items.enum.slice(0, min);
    return chosen.slice(0, Number.isFinite(max) ? max : undefined);
  }
  const remaining = s.uuids.length - s.next;
  const wanted = citing || isId(s, items, at.key.replace(/s$/, ""))
    ? Math.max(remaining, 1)
    : items.type === "string" && !items.enum
    ? 2
    : 1;
  const count = Math.max(min, Math.min(max, wanted));
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) out.push(value(s, items, { ...at, key: at.key }));
  return schema.uniqueItems
    ? [...new Set(out.map((v) => JSON.stringify(v)))].map((v) => JSON.parse(v))
    : out;
}

function number(schema: Schema, integer: boolean): number {
  const min = typeof schema.minimum === "number"
    ? schema.minimum
    : typeof schema.exclusiveMinimum === "number"
    ? schema.exclusiveMinimum + (integer ? 1 : 0.5)
    : 0;
  const max = typeof schema.maximum === "number" ? schema.maximum : Infinity;
  return Math.min(max, integer ? Math.ceil(min) : min);
}

function string(s: State, schema: Schema, at: Place): string {
  if (isId(s, schema, at.key)) return citeId(s);
  if (schema.format === "date-time") return at.line.match(DATETIME)?.[0] ?? firstDate(s);
  if (schema.format === "date") return (at.line.match(DATETIME)?.[0] ?? firstDate(s)).slice(0, 10);
  const min = Number(schema.minLength ?? 1);
  const max = Number(schema.maxLength ?? 500);
  const source = at.line ? words(stripIds(at.line.replace(DATETIME, ""))) : s.words;
  let text = at.key
    ? `${at.key.replaceAll("_", " ")}: ${source.slice(0, 12).join(" ")}`
    : source.slice(0, 12).join(" ");
  text = text.trim() || "fake";
  while (text.length < min) text += " fake";
  return text.slice(0, max);
}

function citeId(s: State): string {
  const known = s.uuids[s.next];
  if (known !== undefined) s.next++;
  if (s.invent > 0 || known === undefined) {
    s.invent = Math.max(0, s.invent - 1);
    return crypto.randomUUID();
  }
  return known;
}

function firstDate(s: State): string {
  return s.prompt.lastUserText.match(DATETIME)?.[0] ?? new Date().toISOString();
}

/** The enum value the context names best; the first value when nothing does. */
function pickEnum(s: State, values: unknown[], at: Place): unknown {
  let best = values[0];
  let bestScore = 0;
  for (const v of values) {
    const score = enumScore(s, v, at);
    if (score > bestScore) [best, bestScore] = [v, score];
  }
  return best;
}

/** How strongly the context names an enum value: its cited line, then its keywords. */
function enumScore(s: State, value: unknown, at: Place): number {
  const name = String(value).toLowerCase();
  const line = at.line.toLowerCase();
  let score = line && new RegExp(`\\b${escape(name)}\\b`).test(line) ? 100 : 0;
  const kw = enumKeywords(at.description).get(name) ?? new Set(name.split(/[_\s-]+/));
  score += s.words.filter((w) => kw.has(w)).length;
  return score;
}

/** "summarize: recap, catch up; search: find, look up" -> {summarize: {recap, catch, up}, ...}. */
function enumKeywords(description: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const segment of description.split(";")) {
    const m = segment.match(/^\s*([\w-]+)\s*:(.*)$/s);
    if (m) out.set(m[1].toLowerCase(), new Set([...words(m[2]), ...m[1].toLowerCase().split("_")]));
  }
  return out;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const stripIds = (text: string) => text.replace(UUID, "");

function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []).filter((w) => !STOPWORDS.has(w));
}
