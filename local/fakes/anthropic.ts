/**
 * Fake Anthropic Messages API (`POST /v1/messages`, streaming or not), speaking
 * the real wire format so the official SDK runs unmodified. Behaviour per
 * request comes from scripts (see script.ts).
 */
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
import { anthropicFiles } from "./files.ts";
import { sampleJson } from "./structured.ts";

type Body = Record<string, unknown>;

export function createAnthropicHandler(
  control: FakeControl = new FakeControl(),
): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/__fake/")) return control.handle(req, url);
    if (req.method === "POST" && url.pathname === "/v1/messages") {
      return await messages(req, control);
    }
    await req.body?.cancel();
    return anthropicError("not_found_error", "Not found");
  };
}

/** Parses the body, records the request in the log, checks headers, answers, and logs the status. */
async function messages(req: Request, control: FakeControl): Promise<Response> {
  const body = await req.json().catch(() => null);
  if (!isObject(body)) {
    return anthropicError("invalid_request_error", "The request body is not valid JSON.");
  }
  const view = messagesView(body);
  const entry = control.record(view);
  const res = headerError(req) ?? await answer(req, body, view, control, entry);
  entry.status = res.status;
  return res;
}

/** The SDK sends its key as `Authorization: Bearer`; curl users tend to send `x-api-key`. */
function headerError(req: Request): Response | null {
  const bearer = /^Bearer\s+\S+/i.test(req.headers.get("authorization") ?? "");
  if (!req.headers.get("x-api-key") && !bearer) {
    return anthropicError("authentication_error", "x-api-key header is required");
  }
  if (!req.headers.get("anthropic-version")) {
    return anthropicError("invalid_request_error", "anthropic-version: header is required");
  }
  return null;
}

function messagesView(body: Body): RequestView {
  const messages = (Array.isArray(body.messages) ? body.messages : []).filter(isObject);
  const lastUser = messages.findLast((m) => m.role === "user");
  const firstUser = messages.find((m) => m.role === "user");
  return {
    api: "anthropic",
    path: "/v1/messages",
    model: String(body.model ?? ""),
    stream: body.stream === true,
    texts: [textOf(body.system), ...messages.map((m) => textOf(m.content))].filter(Boolean),
    lastUserText: lastUser ? textOf(lastUser.content) : "",
    firstUserText: firstUser ? textOf(firstUser.content) : "",
  };
}

async function answer(
  req: Request,
  body: Body,
  view: RequestView,
  control: FakeControl,
  entry: LogEntry,
): Promise<Response> {
  for (const field of ["model", "messages", "max_tokens"]) {
    if (body[field] === undefined) {
      return anthropicError("invalid_request_error", `${field}: Field required`);
    }
  }
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) {
    return anthropicError("invalid_request_error", "max_tokens: must be a positive integer");
  }
  const files = await anthropicFiles(Array.isArray(body.messages) ? body.messages : []);
  if ("error" in files) return anthropicError("invalid_request_error", files.error);
  if (files.files.length) entry.files = files.files;
  let script: Script;
  try {
    script = control.resolve(req, view);
  } catch (err) {
    if (err instanceof ScriptError) return anthropicError("invalid_request_error", err.message);
    throw err;
  }
  script = withForcedTool(script, body, view);
  const x = beginExchange(script, entry, control.closing);
  if (!(await holdHeaders(x, script.delay_ms ?? 0))) return closed();
  if (script.status) {
    const headers: Record<string, string> = {};
    if (script.retry_after !== undefined) headers["retry-after"] = String(script.retry_after);
    return anthropicError(
      script.error_type ?? typeForStatus(script.status),
      undefined,
      script.status,
      headers,
    );
  }

  const thinking = isObject(body.thinking) &&
    ["enabled", "adaptive"].includes(String(body.thinking.type));
  const model = String(body.model);
  const reply = planReply(script, {
    defaultText: defaultReply(model, view.lastUserText),
    inputText: view.texts.join(""),
    maxTokens: body.max_tokens as number,
    withReasoning: thinking,
    newToolId: () => randomId("toolu_01", 22),
  });
  const fault = plannedFault(script, reply.text.length);
  const malformed = malformedAt(script, reply.text.length);
  entry.fault = fault?.kind ?? (malformed === null ? undefined : "malformed");
  const headers = { "request-id": randomId("req_01", 22) };
  const message = { id: randomId("msg_01", 22), type: "message", role: "assistant", model };
  const signature = btoa(`fake-signature:${randomId("", 32)}`);

  if (view.stream) {
    return sseResponse(x, messageEvents(x, message, reply, fault, malformed, signature), headers);
  }

  // Non-streaming: the whole generation happens before the headers.
  if (fault?.kind === "stall") {
    // Never answer: until the server closes, or STALL_LIMIT_MS.
    return (await holdHeaders(x, STALL_LIMIT_MS)) ? anthropicError("timeout_error") : closed();
  }
  const tokens = fault ? fault.at : reply.reasoning.length + reply.text.length;
  if (!(await holdHeaders(x, generationMs(script, tokens)))) return closed();
  if (fault?.kind === "error") return anthropicError(script.error_type ?? "overloaded_error");
  if (fault?.kind === "drop") return droppedResponse(headers);
  if (malformed !== null) return malformedResponse(headers);
  const content: Record<string, unknown>[] = [];
  if (reply.reasoning.length) {
    content.push({ type: "thinking", thinking: reply.reasoning.join(""), signature });
  }
  if (reply.text.length) content.push({ type: "text", text: reply.text.join("") });
  for (const call of reply.toolCalls) {
    content.push({
      type: "tool_use",
      id: call.id,
      name: call.name,
      input: parseInput(call.arguments),
    });
  }
  return json(
    {
      ...message,
      content,
      stop_reason: stopReason(reply),
      stop_sequence: null,
      usage: { ...startUsage(reply), output_tokens: reply.usage.output },
    },
    200,
    headers,
  );
}

/** A forced tool (`tool_choice: {type: "tool"}`) without a script: a call with valid input. */
function withForcedTool(script: Script, body: Body, view: RequestView): Script {
  const choice = body.tool_choice;
  if (!isObject(choice) || choice.type !== "tool" || typeof choice.name !== "string") return script;
  if (script.text !== undefined || script.tool_calls?.length) return script;
  const tool = (Array.isArray(body.tools) ? body.tools : []).find((t) =>
    isObject(t) && t.name === choice.name
  );
  if (!isObject(tool) || !isObject(tool.input_schema)) return script;
  const input = sampleJson(tool.input_schema, { ...view, inventIds: script.invent_ids });
  return { ...script, tool_calls: [{ name: choice.name, arguments: input }] };
}

async function* messageEvents(
  x: Exchange,
  message: Record<string, unknown>,
  reply: Reply,
  fault: Fault | null,
  malformed: number | null,
  signature: string,
): AsyncGenerator<string> {
  const pacer = new Pacer(x);
  const event = (type: string, data: Record<string, unknown> = {}) =>
    sseEvent({ type, ...data }, type);
  const delta = (index: number, delta: Record<string, unknown>) =>
    event("content_block_delta", { index, delta });
  const errorEvent = sseEvent(errorBody(x.script.error_type ?? "overloaded_error"), "error");
  let index = 0;

  yield event("message_start", {
    message: {
      ...message,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: startUsage(reply),
    },
  });
  yield event("ping");
  if (reply.reasoning.length) {
    yield event("content_block_start", {
      index,
      content_block: { type: "thinking", thinking: "", signature: "" },
    });
    for (const token of reply.reasoning) {
      await pacer.next();
      yield delta(index, { type: "thinking_delta", thinking: token });
    }
    yield delta(index, { type: "signature_delta", signature });
    yield event("content_block_stop", { index: index++ });
  }
  if (reply.text.length) {
    yield event("content_block_start", { index, content_block: { type: "text", text: "" } });
    for (const [i, token] of reply.text.entries()) {
      if (fault?.at === i) return yield* fireFault(x, fault, errorEvent);
      if (malformed === i) yield malformedEvent("content_block_delta");
      await pacer.next();
      yield delta(index, { type: "text_delta", text: token });
    }
  }
  if (malformed === reply.text.length) yield malformedEvent("content_block_delta");
  if (fault) return yield* fireFault(x, fault, errorEvent);
  if (reply.text.length) yield event("content_block_stop", { index: index++ });
  for (const call of reply.toolCalls) {
    await pacer.next();
    yield event("content_block_start", {
      index,
      content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
    });
    for (const part of fragments(call.arguments)) {
      await pacer.next();
      yield delta(index, { type: "input_json_delta", partial_json: part });
    }
    yield event("content_block_stop", { index: index++ });
  }
  const u = reply.usage;
  yield event("message_delta", {
    delta: { stop_reason: stopReason(reply), stop_sequence: null },
    usage: {
      input_tokens: u.input,
      cache_creation_input_tokens: u.cacheCreation,
      cache_read_input_tokens: u.cached,
      output_tokens: u.output,
    },
  });
  yield event("message_stop");
}

/** Usage as in `message_start`: output_tokens is a provisional 1, as the real API sends. */
function startUsage({ usage: u }: Reply) {
  return {
    input_tokens: u.input,
    cache_creation_input_tokens: u.cacheCreation,
    cache_read_input_tokens: u.cached,
    cache_creation: { ephemeral_5m_input_tokens: u.cacheCreation, ephemeral_1h_input_tokens: 0 },
    output_tokens: 1,
    service_tier: "standard",
  };
}

function stopReason(reply: Reply): string {
  if (reply.truncated) return "max_tokens";
  if (reply.contentFilter) return "refusal";
  return reply.toolCalls.length ? "tool_use" : "end_turn";
}

/** Tool input for non-streaming replies; scripted string arguments that are not JSON become {}. */
function parseInput(args: string): unknown {
  try {
    return JSON.parse(args);
  } catch {
    return {};
  }
}

/** Answer for a request cut short by the server closing; nobody receives it. */
function closed(): Response {
  return new Response(null, { status: CLOSED_STATUS });
}

// ---- errors ------------------------------------------------------------------------

const ERRORS: Record<string, { status: number; message: string }> = {
  invalid_request_error: { status: 400, message: "Invalid request" },
  authentication_error: { status: 401, message: "invalid x-api-key" },
  billing_error: { status: 402, message: "Your credit balance is too low" },
  permission_error: {
    status: 403,
    message: "Your API key does not have permission to use the specified resource.",
  },
  not_found_error: { status: 404, message: "Not found" },
  request_too_large: {
    status: 413,
    message: "Request exceeds the maximum allowed number of bytes.",
  },
  rate_limit_error: {
    status: 429,
    message: "Number of request tokens has exceeded your per-minute rate limit",
  },
  api_error: { status: 500, message: "Internal server error" },
  timeout_error: { status: 504, message: "Request timed out" },
  overloaded_error: { status: 529, message: "Overloaded" },
};

function typeForStatus(status: number): string {
  const known = Object.entries(ERRORS).find(([, e]) => e.status === status);
  return known ? known[0] : status >= 500 ? "api_error" : "invalid_request_error";
}

function errorBody(type: string, message?: string) {
  return { type: "error", error: { type, message: message ?? ERRORS[type]?.message ?? type } };
}

export function anthropicError(
  type: string,
  message?: string,
  status = ERRORS[type]?.status ?? 500,
  headers: Record<string, string> = {},
): Response {
  const requestId = randomId("req_01", 22);
  return json({ ...errorBody(type, message), request_id: requestId }, status, {
    "request-id": requestId,
    ...headers,
  });
}
