// The stored format of a message's parts (messages.parts) and its conversion to stream events
// and back. A live reply is built through ReplyParts, which stores each part and emits its
// events; a replay feeds the stored parts through the same ReplyParts (replayParts), so a client
// that reconnects gets the very chunks a live reader got, deltas merged.
//
// Order rules both sides share:
// - a step is `step_start`, then its text, reasoning and tool calls; their ends and the
//   step's finish are sent when the step finishes;
// - tool results, citations and artifacts come between steps (a tool runs after its step
//   finished);
// - data parts (title, notice) that arrive while a step is open wait for it to finish.
import { z } from "@hono/zod-openapi";
import type { ChatStreamEvent, Citation } from "../stream/events.ts";
import { citationKey } from "../stream/events.ts";

/**
 * On user messages: a file the user sent (image, PDF, text), stored in the Storage bucket
 * `chat-attachments` at `path` (never inline). useChat's file parts arrive as `file` too; see
 * attachments.ts for how they become this part.
 */
export const AttachmentPartSchema = z.object({
  type: z.literal("attachment"),
  id: z.uuid(),
  path: z.string(),
  media_type: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  filename: z.string(),
  /** In API answers only (never stored): a signed link to the file, valid until `url_expires_at`. */
  url: z.string().optional(),
  url_expires_at: z.iso.datetime({ offset: true }).optional(),
});

/**
 * A file a tool made (table artifacts), after its tool_call: download it with
 * GET /conversations/{id}/artifacts/{artifactId}. Sent to clients as `data-artifact`.
 */
export const ArtifactPart = z.object({
  type: z.literal("artifact"),
  id: z.uuid(),
  tool_call_id: z.string(),
  kind: z.enum(["file", "file_diff"]),
  /** The file's name as the tool gave it, e.g. "src/app.ts". */
  path: z.string(),
  mime: z.string(),
  size: z.number().int(),
  sha256: z.string(),
});

export const PartSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("step_start") }),
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({ type: z.literal("reasoning"), text: z.string() }),
  z.object({ type: z.literal("tool_call"), id: z.string(), name: z.string(), input: z.unknown() }),
  z.object({
    type: z.literal("tool_result"),
    tool_call_id: z.string(),
    name: z.string(),
    output: z.unknown(),
    is_error: z.boolean(),
    duration_ms: z.number().int(),
  }),
  z.object({
    type: z.literal("citation"),
    document_id: z.uuid(),
    chunk_index: z.number().int(),
    title: z.string(),
    snippet: z.string(),
    url: z.string().optional(),
  }),
  /** On user messages: an @mentioned document. */
  z.object({ type: z.literal("file"), document_id: z.uuid(), title: z.string() }),
  AttachmentPartSchema,
  ArtifactPart,
  /** The conversation's title, written from this exchange. */
  z.object({ type: z.literal("title"), title: z.string() }),
  /** Something the user was told, e.g. that a cheaper model answered (budget). */
  z.object({ type: z.literal("notice"), code: z.string(), message: z.string() }),
  z.object({ type: z.literal("error"), code: z.string(), message: z.string() }),
  /** A typed data part, e.g. the planner's `plan` (sent to clients as `data-<name>`). */
  z.object({ type: z.literal("data"), name: z.string(), id: z.string(), data: z.unknown() }),
]).openapi("MessagePart");

export type Part = z.infer<typeof PartSchema>;
export type PartOf<T extends Part["type"]> = Extract<Part, { type: T }>;

const toCitation = (p: PartOf<"citation">): Citation => ({
  documentId: p.document_id,
  chunkIndex: p.chunk_index,
  title: p.title,
  snippet: p.snippet,
  ...(p.url ? { url: p.url } : {}),
});

const citationPart = (c: Citation): PartOf<"citation"> => ({
  type: "citation",
  document_id: c.documentId,
  chunk_index: c.chunkIndex,
  title: c.title,
  snippet: c.snippet,
  ...(c.url ? { url: c.url } : {}),
});

/** The text parts joined: messages.content. */
export const textOf = (parts: Part[]) =>
  parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");

/** A reply's parts as they are built, and the events each change sends. */
export class ReplyParts {
  readonly parts: Part[] = [];
  /** Indexes of the open step's text and reasoning parts (a step has at most one of each). */
  #open: { text?: number; reasoning?: number } | null = null;
  #held: (PartOf<"title"> | PartOf<"notice">)[] = [];
  #cited = new Set<string>();

  constructor(private readonly emit: (event: ChatStreamEvent) => void) {}

  get content() {
    return textOf(this.parts);
  }

  get stepOpen() {
    return this.#open !== null;
  }

  stepStart() {
    if (this.#open) this.stepFinish();
    this.parts.push({ type: "step_start" });
    this.#open = {};
    this.emit({ type: "step-start" });
  }

  text(delta: string) {
    this.#grow("text", delta);
  }

  reasoning(delta: string) {
    this.#grow("reasoning", delta);
  }

  #grow(kind: "text" | "reasoning", delta: string) {
    const open = this.#open ?? (this.stepStart(), this.#open!);
    if (open[kind] === undefined) {
      open[kind] = this.parts.length;
      this.parts.push({ type: kind, text: "" });
    }
    const index = open[kind];
    (this.parts[index] as PartOf<"text" | "reasoning">).text += delta;
    const id = `${kind}-${index}`;
    this.emit(
      kind === "text" ? { type: "text-delta", id, delta } : { type: "reasoning-delta", id, delta },
    );
  }

  toolInputStart(toolCallId: string, toolName: string) {
    this.emit({ type: "tool-input-start", toolCallId, toolName });
  }

  toolInputDelta(toolCallId: string, delta: string) {
    this.emit({ type: "tool-input-delta", toolCallId, delta });
  }

  toolCall(call: { id: string; name: string; input: unknown }) {
    this.parts.push({ type: "tool_call", id: call.id, name: call.name, input: call.input });
    this.emit({
      type: "tool-input-available",
      toolCallId: call.id,
      toolName: call.name,
      input: call.input,
    });
  }

  /** Ends the open step: its open parts, the step, then the data parts that waited for it. */
  stepFinish() {
    const open = this.#open;
    if (!open) return;
    if (open.reasoning !== undefined) {
      this.emit({ type: "reasoning-end", id: `reasoning-${open.reasoning}` });
    }
    if (open.text !== undefined) this.emit({ type: "text-end", id: `text-${open.text}` });
    this.emit({ type: "step-finish" });
    this.#open = null;
    this.#flushHeld();
  }

  toolResult(result: PartOf<"tool_result">) {
    this.stepFinish();
    this.parts.push(result);
    this.emit(
      result.is_error
        ? {
          type: "tool-output-error",
          toolCallId: result.tool_call_id,
          errorText: JSON.stringify(result.output),
        }
        : { type: "tool-output-available", toolCallId: result.tool_call_id, output: result.output },
    );
  }

  /** Cites a passage once per reply. */
  cite(citation: Citation) {
    const key = citationKey(citation);
    if (this.#cited.has(key)) return;
    this.#cited.add(key);
    this.stepFinish();
    this.parts.push(citationPart(citation));
    this.emit({ type: "citation", citation });
  }

  /** A typed data part (the planner's plan): it follows the step it belongs to. */
  typed(part: PartOf<"data">) {
    this.stepFinish();
    this.parts.push(part);
    this.emit({ type: "data", name: part.name, id: part.id, data: part.data });
  }

  /**
   * A file a tool made: like a citation, it comes between steps. `storedInput` replaces its
   * tool call's input in the stored parts: the file's text lives in the artifact, not here.
   */
  artifact(part: PartOf<"artifact">, storedInput?: unknown) {
    this.stepFinish();
    const call = this.parts.find((p): p is PartOf<"tool_call"> =>
      p.type === "tool_call" && p.id === part.tool_call_id
    );
    if (call && storedInput !== undefined) call.input = storedInput;
    this.parts.push(part);
    const { type: _, ...data } = part;
    this.emit({ type: "data", name: "artifact", id: part.id, data });
  }

  /** A title or notice: sent now, or when the open step finishes. */
  data(part: PartOf<"title"> | PartOf<"notice">) {
    this.#held.push(part);
    if (!this.#open) this.#flushHeld();
  }

  #flushHeld() {
    for (const part of this.#held.splice(0)) {
      this.parts.push(part);
      this.emit(
        part.type === "title"
          ? { type: "title", title: part.title }
          : { type: "notice", code: part.code, message: part.message },
      );
    }
  }

  /**
   * The reply stopped or failed with the step open: the step is not finished (its open parts
   * are closed by the terminal event), and waiting data parts are sent.
   */
  interrupt(error?: { code: string; message: string }) {
    this.#open = null;
    this.#flushHeld();
    if (error) this.parts.push({ type: "error", ...error });
  }

  /** A completed reply: the open step finishes. */
  complete() {
    this.stepFinish();
    this.#flushHeld();
  }
}

/**
 * Replays stored parts through a ReplyParts, as the live reply built them. Feed it the parts
 * again as they grow (a reply still being generated): it sends what is new since the last call.
 */
export class PartsReplay {
  readonly #reply: ReplyParts;
  /** Parts replayed so far, and how much of each text or reasoning part was sent. */
  #next = 0;
  #sent = new Map<number, number>();

  constructor(emit: (event: ChatStreamEvent) => void) {
    this.#reply = new ReplyParts(emit);
  }

  feed(parts: Part[]) {
    for (const [index, sent] of this.#sent) {
      const part = parts[index] as PartOf<"text" | "reasoning"> | undefined;
      if (part && part.text.length > sent) this.#grow(index, part);
    }
    for (; this.#next < parts.length; this.#next++) this.#replay(this.#next, parts[this.#next]);
  }

  #grow(index: number, part: PartOf<"text" | "reasoning">) {
    const delta = part.text.slice(this.#sent.get(index) ?? 0);
    this.#sent.set(index, part.text.length);
    if (part.type === "text") this.#reply.text(delta);
    else this.#reply.reasoning(delta);
  }

  #replay(index: number, part: Part) {
    const reply = this.#reply;
    switch (part.type) {
      case "step_start":
        this.#sent.clear();
        return reply.stepStart();
      case "text":
      case "reasoning":
        return this.#grow(index, part);
      case "tool_call":
        // The input as one delta: its JSON text, as the provider streamed it.
        reply.toolInputStart(part.id, part.name);
        reply.toolInputDelta(part.id, JSON.stringify(part.input));
        return reply.toolCall(part);
      case "tool_result":
        return reply.toolResult(part);
      case "citation":
        return reply.cite(toCitation(part));
      case "title":
      case "notice":
        return reply.data(part);
      case "data":
        return reply.typed(part);
      case "artifact":
        return reply.artifact(part);
      case "error": // the terminal event says it
        return reply.interrupt();
      case "file": // user message parts: not part of a reply
      case "attachment":
        return;
    }
  }

  /** The reply ended: a completed one finishes its step; a stopped or failed one does not. */
  end(status: "complete" | "error" | "aborted") {
    if (status === "complete") this.#reply.complete();
    else this.#reply.interrupt();
  }
}
