/**
 * Fake OpenAI-compatible API: chat completions (streaming or not), embeddings
 * and the model list, speaking the real wire format so the official SDK runs
 * unmodified. Behaviour per request comes from scripts (see script.ts).
 */
import { Buffer } from "node:buffer";
import { openaiFiles } from "./files.ts";
import {
  defaultReply,
  FakeControl,
  fragments,
  isObject,
  json,
  type LogEntry,
  planReply,
  randomId,
  type Reply,
  type RequestView,
  type Script,
  ScriptError,
  textOf,
} from "./script.ts";
import {
  beginExchange,
  CLOSED_STATUS,
  droppedResponse,
  type Exchange,
  type Fault,
  fireFault,
  generationMs,
  holdHeaders,
  malformedAt,
  malformedEvent,
  malformedResponse,
  Pacer,
  plannedFault,
  sseEvent,
  sseResponse,
  STALL_LIMIT_MS,
} from "./stream.ts";
import { sampleJson } from "./structured.ts";

export const DEFAULT_EMBEDDING_DIMENSIONS = 1536;

const MODELS = [
  "gpt-4o",
  "gpt-4o-mini",
  "o4-mini",
  "text-embedding-3-small",
  "text-embedding-3-large",
];
const FINGERPRINT = "fp_fake0000000";

type Body = Record<string, unknown>;

export function createOpenAIHandler(
  control: FakeControl = new FakeControl(),
): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/__fake/")) return control.handle(req, url);
    switch (`${req.method} ${url.pathname}`) {
      case "POST /v1/chat/completions":
        return await logged(req, control, chatView, answerChat);
      case "POST /v1/embeddings":
        return await logged(req, control, embeddingsView, answerEmbeddings);
      case "GET /v1/models":
        return missingKey(req) ?? json({
          object: "list",
          data: MODELS.map((id) => ({
            id,
            object: "model",
            created: 1_700_000_000,
            owned_by: "fake",
          })),
        });
      default:
        await req.body?.cancel();
        return openaiError(404, `Invalid URL (${req.method} ${url.pathname})`);
    }
  };
}

/** One provider request: its parsed body, how it appears in the log, and its log entry. */
interface Call {
  req: Request;
  body: Body;
  view: RequestView;
  entry: LogEntry;
  control: FakeControl;
}

/** Parses the body, records the request in the log, checks the key, answers, and logs the status. */
async function logged(
  req: Request,
  control: FakeControl,
  toView: (body: Body, path: string) => RequestView,
  answer: (call: Call) => Promise<Response>,
): Promise<Response> {
  const body = await req.json().catch(() => null);
  if (!isObject(body)) {
    return openaiError(400, "We could not parse the JSON body of your request.");
  }
  const view = toView(body, new URL(req.url).pathname);
  const entry = control.record(view);
  const res = missingKey(req) ?? await answer({ req, body, view, entry, control });
  entry.status = res.status;
  return res;
}

/** Steps shared by every valid provider request: find the script, delay, scripted status. */
async function prelude(call: Call, directives: boolean): Promise<Exchange | Response> {
  let script: Script;
  try {
    script = call.control.resolve(call.req, call.view, directives);
  } catch (err) {
    if (err instanceof ScriptError) return openaiError(400, err.message);
    throw err;
  }
  const x = beginExchange(script, call.entry, call.control.closing);
  if (!(await holdHeaders(x, script.delay_ms ?? 0))) return closed();
  if (script.status) return scriptedError(script.status, script);
  return x;
}

/** Answer for a request cut short by the server closing; nobody receives it. */
function closed(): Response {
  return new Response(null, { status: CLOSED_STATUS });
}

// ---- chat completions -------------------------------------------------------

function chatView(body: Body, path: string): RequestView {
  const messages = (Array.isArray(body.messages) ? body.messages : []).filter(isObject);
  const texts = messages.flatMap((m) => [
    textOf(m.content),
    ...(Array.isArray(m.tool_calls) ? m.tool_calls : []).map((c) =>
      String(c?.function?.arguments ?? "")
    ),
  ]).filter(Boolean);
  const lastUser = messages.findLast((m) => m.role === "user");
  const firstUser = messages.find((m) => m.role === "user");
  return {
    api: "openai",
    path,
    model: String(body.model ?? ""),
    stream: body.stream === true,
    texts,
    lastUserText: lastUser ? textOf(lastUser.content) : "",
    firstUserText: firstUser ? textOf(firstUser.content) : "",
  };
}

async function answerChat(call: Call): Promise<Response> {
  const { body, view, entry } = call;
  if (typeof body.model !== "string" || !body.model) {
    return openaiError(400, "you must provide a model parameter", { param: "model" });
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return openaiError(400, "'messages' is a required property", { param: "messages" });
  }
  const files = await openaiFiles(body.messages);
  if ("error" in files) {
    return openaiError(400, files.error, { param: files.param, code: files.code });
  }
  if (files.files.length) entry.files = files.files;
  const x = await prelude(call, true);
  if (x instanceof Response) return x;
  x.script = withStructuredOutput(x.script, body, view);

  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const reply = planReply(x.script, {
    defaultText: defaultReply(body.model, view.lastUserText),
    inputText: view.texts.join(""),
    maxTokens: typeof maxTokens === "number" ? maxTokens : undefined,
    withReasoning: true,
    newToolId: () => randomId("call_"),
  });
  const fault = plannedFault(x.script, reply.text.length);
  const malformed = malformedAt(x.script, reply.text.length);
  entry.fault = fault?.kind ?? (malformed === null ? undefined : "malformed");
  const headers = { "x-request-id": randomId("req_", 32) };
  const completion = {
    id: randomId("chatcmpl-", 29),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    service_tier: "default",
    system_fingerprint: FINGERPRINT,
  };

  if (view.stream) {
    const includeUsage = isObject(body.stream_options) &&
      body.stream_options.include_usage === true;
    return sseResponse(
      x,
      chatChunks(x, completion, reply, fault, malformed, includeUsage),
      headers,
    );
  }

  // Non-streaming: the whole generation happens before the headers.
  if (fault?.kind === "stall") {
    // Never answer: until the server closes, or STALL_LIMIT_MS.
    return (await holdHeaders(x, STALL_LIMIT_MS))
      ? openaiError(504, "Timed out: fake stall limit reached.")
      : closed();
  }
  const tokens = fault ? fault.at : reply.reasoning.length + reply.text.length;
  if (!(await holdHeaders(x, generationMs(x.script, tokens)))) return closed();
  if (fault?.kind === "error") {
    const type = x.script.error_type ?? "server_error";
    return openaiError(statusForType(type), SERVER_ERROR_MESSAGE, { type });
  }
  if (fault?.kind === "drop") return droppedResponse(headers);
  if (malformed !== null) return malformedResponse(headers);
  const message: Record<string, unknown> = {
    role: "assistant",
    content: reply.text.length ? reply.text.join("") : null,
    refusal: null,
    annotations: [],
  };
  if (reply.reasoning.length) message.reasoning_content = reply.reasoning.join("");
  if (reply.toolCalls.length) {
    message.tool_calls = reply.toolCalls.map((c) => ({
      id: c.id,
      type: "function",
      function: { name: c.name, arguments: c.arguments },
    }));
  }
  return json(
    {
      ...completion,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(reply) }],
      usage: usageOf(reply),
    },
    200,
    headers,
  );
}

async function* chatChunks(
  x: Exchange,
  completion: Record<string, unknown>,
  reply: Reply,
  fault: Fault | null,
  malformed: number | null,
  includeUsage: boolean,
): AsyncGenerator<string> {
  const pacer = new Pacer(x);
  // With include_usage, every chunk carries `usage: null` until the final usage chunk.
  const base = {
    ...completion,
    object: "chat.completion.chunk",
    ...(includeUsage ? { usage: null } : {}),
  };
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) =>
    sseEvent({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason }] });
  const errorEvent = sseEvent({
    error: {
      message: SERVER_ERROR_MESSAGE,
      type: x.script.error_type ?? "server_error",
      param: null,
      code: null,
    },
  });

  yield chunk({ role: "assistant", content: reply.text.length ? "" : null, refusal: null });
  for (const token of reply.reasoning) {
    await pacer.next();
    yield chunk({ reasoning_content: token });
  }
  for (const [i, token] of reply.text.entries()) {
    if (fault?.at === i) return yield* fireFault(x, fault, errorEvent);
    if (malformed === i) yield malformedEvent();
    await pacer.next();
    yield chunk({ content: token });
  }
  if (malformed === reply.text.length) yield malformedEvent();
  if (fault) return yield* fireFault(x, fault, errorEvent);
  for (const [index, call] of reply.toolCalls.entries()) {
    await pacer.next();
    yield chunk({
      tool_calls: [{
        index,
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: "" },
      }],
    });
    for (const part of fragments(call.arguments)) {
      await pacer.next();
      yield chunk({ tool_calls: [{ index, function: { arguments: part } }] });
    }
  }
  yield chunk({}, finishReason(reply));
  if (includeUsage) yield sseEvent({ ...base, choices: [], usage: usageOf(reply) });
  yield "data: [DONE]\n\n";
}

/** `response_format: json_schema` without a scripted text: JSON valid against that schema. */
function withStructuredOutput(script: Script, body: Body, view: RequestView): Script {
  const format = body.response_format;
  if (!isObject(format) || format.type !== "json_schema" || !isObject(format.json_schema)) {
    return script;
  }
  const schema = format.json_schema.schema;
  if (script.text !== undefined || script.tool_calls?.length || !isObject(schema)) return script;
  const value = sampleJson(schema, { ...view, inventIds: script.invent_ids });
  return { ...script, text: JSON.stringify(value) };
}

function finishReason(reply: Reply): string {
  if (reply.truncated) return "length";
  if (reply.contentFilter) return "content_filter";
  return reply.toolCalls.length ? "tool_calls" : "stop";
}

function usageOf({ usage: u }: Reply) {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

// ---- embeddings -----------------------------------------------------------------

function embeddingsView(body: Body, path: string): RequestView {
  const input = body.input;
  const texts = typeof input === "string" ? [input] : Array.isArray(input) ? input.map(String) : [];
  return {
    api: "openai",
    path,
    model: String(body.model ?? ""),
    stream: false,
    texts,
    lastUserText: texts[0] ?? "",
  };
}

async function answerEmbeddings(call: Call): Promise<Response> {
  const { body } = call;
  const input = typeof body.input === "string" ? [body.input] : body.input;
  if (!Array.isArray(input) || input.length === 0 || !input.every((s) => typeof s === "string")) {
    return openaiError(400, "'input' must be a non-empty string or array of strings", {
      param: "input",
    });
  }
  const dimensions = body.dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
  if (!Number.isInteger(dimensions) || (dimensions as number) < 1) {
    return openaiError(400, "'dimensions' must be a positive integer", { param: "dimensions" });
  }
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") {
    return openaiError(400, "'encoding_format' must be 'float' or 'base64'", {
      param: "encoding_format",
    });
  }
  const x = await prelude(call, false);
  if (x instanceof Response) return x;
  if (x.script.stall_after_tokens !== undefined) {
    // Never answer: until the server closes, or STALL_LIMIT_MS.
    return (await holdHeaders(x, STALL_LIMIT_MS))
      ? openaiError(504, "Timed out: fake stall limit reached.")
      : closed();
  }
  const tokens = input.reduce((n, text) => n + Math.ceil(text.length / 4), 0);
  return json(
    {
      object: "list",
      data: input.map((text, index) => {
        const vector = fakeEmbedding(text, dimensions as number);
        return {
          object: "embedding",
          index,
          embedding: format === "base64" ? toBase64(vector) : vector,
        };
      }),
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
    200,
    { "x-request-id": randomId("req_", 32) },
  );
}

/**
 * Deterministic embedding by feature hashing: each lower-cased word adds ±1 to
 * one dimension (FNV-1a picks the dimension, a second hash the sign), then the
 * vector is L2-normalised. Texts sharing words are close; texts with no shared
 * words are near-orthogonal. Values are float32-rounded, exactly what the SDK
 * decodes from base64.
 */
export function fakeEmbedding(text: string, dimensions = DEFAULT_EMBEDDING_DIMENSIONS): number[] {
  const v = new Float64Array(dimensions);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const sign = fnv1a("sign:" + word) & 1 ? 1 : -1;
    v[fnv1a(word) % dimensions] += sign;
  }
  const norm = Math.hypot(...v);
  if (norm === 0) v[0] = 1; // no words: any fixed unit vector
  return Array.from(v, (x) => Math.fround(norm === 0 ? x : x / norm));
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Little-endian float32 bytes in base64, as the API sends (and the SDK decodes) them. */
function toBase64(vector: number[]): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  vector.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return Buffer.from(view.buffer).toString("base64");
}

// ---- errors ------------------------------------------------------------------------

const SERVER_ERROR_MESSAGE =
  "The server had an error while processing your request. Sorry about that!";

const ERROR_PRESETS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "Invalid request (scripted).", type: "invalid_request_error", code: null },
  401: {
    message: "Incorrect API key provided.",
    type: "invalid_request_error",
    code: "invalid_api_key",
  },
  403: {
    message: "You are not allowed to sample from this model.",
    type: "invalid_request_error",
    code: null,
  },
  404: {
    message: "The model does not exist.",
    type: "invalid_request_error",
    code: "model_not_found",
  },
  429: {
    message: "Rate limit reached for requests.",
    type: "requests",
    code: "rate_limit_exceeded",
  },
  500: { message: SERVER_ERROR_MESSAGE, type: "server_error", code: null },
  503: {
    message: "The engine is currently overloaded, please try again later.",
    type: "server_error",
    code: null,
  },
};

function scriptedError(status: number, script: Script): Response {
  const preset = ERROR_PRESETS[status] ??
    {
      message: `Scripted error ${status}.`,
      type: status >= 500 ? "server_error" : "invalid_request_error",
      code: null,
    };
  const headers: Record<string, string> = {};
  if (script.retry_after !== undefined) headers["retry-after"] = String(script.retry_after);
  return openaiError(status, preset.message, {
    type: script.error_type ?? preset.type,
    code: preset.code,
    headers,
  });
}

function statusForType(type: string): number {
  if (type === "invalid_request_error") return 400;
  if (type === "requests" || type === "tokens" || type === "rate_limit_exceeded") return 429;
  return 500;
}

function missingKey(req: Request): Response | null {
  const auth = req.headers.get("authorization") ?? "";
  if (/^Bearer\s+\S+/i.test(auth)) return null;
  return openaiError(
    401,
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    { code: "invalid_api_key" },
  );
}

export function openaiError(
  status: number,
  message: string,
  opts: { type?: string; code?: string | null; param?: string; headers?: Record<string, string> } =
    {},
): Response {
  const type = opts.type ?? (status >= 500 ? "server_error" : "invalid_request_error");
  return json(
    { error: { message, type, param: opts.param ?? null, code: opts.code ?? null } },
    status,
    { "x-request-id": randomId("req_", 32), ...opts.headers },
  );
}
