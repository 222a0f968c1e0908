// Files sent with chat messages: images (png, jpeg, webp, gif), PDFs and text files.
//
// Two ways in, one stored shape. A file is either uploaded first (POST
// /conversations/:id/attachments, multipart) and then sent by its id (`attachments: [id]` in the
// send body, Aide's or useChat's), or sent inline as useChat's file part (`{type: "file",
// mediaType, filename, url: "data:..."}`, what `sendMessage({files})` sends). Either way the
// bytes go to the private Storage bucket `chat-attachments` under
// `<user id>/<conversation id>/<attachment id>/<file name>`, a `chat_attachments` row describes
// them, and the user message keeps an `attachment` part (parts.ts) with path, media type, size,
// sha256 and file name: never the bytes. (The stored `file` part is something else: an
// @mentioned knowledge document. An incoming useChat `file` part is told apart by its `url`.)
//
// Limits are app settings (`chat.attachments.*`): 413 for a file or a message over its bytes,
// 415 for a media type not allowed, 422 for too many files, a bad data URL, bytes that are not
// what the media type says, or an id that is not an attachment of this conversation. Every check
// happens before anything is stored; what was stored for a send that then fails is removed.
//
// Models read them natively (Anthropic image and document blocks, OpenAI image_url and file
// parts: see the adapters) when the registry says they can (`capabilities.vision`, `.pdf`;
// text files every model reads): a send (or a regeneration) for a model that cannot is refused
// with 422 `unsupported_attachment` before any call, and streamChat skips fallbacks that cannot.
// Earlier turns' files are re-sent newest first up to `chat.attachments.history_bytes`; the
// others, and those the model cannot read, are described to it in a line of text.
//
// Answers carry signed links to the files (`url`, `url_expires_at`). Deleting an attachment or
// its conversation removes the file from Storage first; the account's deletion removes them all.
import { Buffer } from "node:buffer";
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AuthedEnv, CurrentUser } from "../auth.ts";
import { asUser, sql, type Tx } from "../db.ts";
import { ApiError, log, readBody } from "../http.ts";
import { readsFile } from "../llm/common.ts";
import type { LlmPart, ModelSpec } from "../llm/types.ts";
import { userStorage } from "../storage.ts";
import type { HistoryMessage } from "./context.ts";
import { rememberedChatModels, rememberedModelChain } from "./models.ts";
import type { PartOf } from "./parts.ts";

export const BUCKET = "chat-attachments";

export type AttachmentPart = PartOf<"attachment">;
type FileInput = Extract<LlmPart, { type: "file" }>;

// --- Limits (app settings) -------------------------------------------------------------------
export interface AttachmentLimits {
  maxFileBytes: number;
  maxFiles: number;
  maxMessageBytes: number;
  mediaTypes: string[];
  urlSeconds: number;
  historyBytes: number;
}

export async function attachmentLimits(tx: Tx): Promise<AttachmentLimits> {
  const rows = await tx<{ key: string; value: unknown }[]>`
    select key, value from public.app_settings where key like 'chat.attachments.%'`;
  const get = (key: string) => rows.find((r) => r.key === `chat.attachments.${key}`)?.value;
  return {
    maxFileBytes: Number(get("max_file_bytes") ?? 10_485_760),
    maxFiles: Number(get("max_files") ?? 5),
    maxMessageBytes: Number(get("max_message_bytes") ?? 20_971_520),
    mediaTypes: (get("media_types") as string[] | undefined) ??
      ["image/png", "image/jpeg", "image/webp", "image/gif", "application/pdf", "text/*"],
    urlSeconds: Number(get("url_seconds") ?? 3600),
    historyBytes: Number(get("history_bytes") ?? 10_485_760),
  };
}

const allowed = (limits: AttachmentLimits, mediaType: string) =>
  limits.mediaTypes.some((t) =>
    t.endsWith("/*") ? mediaType.startsWith(t.slice(0, -1)) : t === mediaType
  );

// --- Incoming files ----------------------------------------------------------------------------
/** A file of a send or an upload, read and checked, not yet stored. */
export interface NewFile {
  id: string;
  mediaType: string;
  filename: string;
  bytes: Uint8Array;
  sha256: string;
}

/** What a send carries: inline files (useChat data URLs) and ids of uploaded ones. */
export interface SendFiles {
  inline: { mediaType: string; filename?: string; url: string }[];
  ids: string[];
}

/** useChat's file part (FileUIPart), as it arrives in the newest user message. */
export const FileUIPart = z.object({
  type: z.literal("file"),
  mediaType: z.string().min(1).max(255),
  filename: z.string().max(1000).optional(),
  url: z.string(),
});

const invalid = (code: string, message: string) => new ApiError(422, code, message);

/** `data:<media type>[;params][;base64],<data>`: its bytes and media type, or 422. */
export function decodeDataUrl(url: string): { mediaType: string; bytes: Uint8Array } {
  const match = url.match(/^data:([^,]*),(.*)$/s);
  if (!match) {
    throw invalid(
      "invalid_data_url",
      "A file part's url must be a data URL (data:<type>;base64,...); upload larger or reused " +
        "files with POST /conversations/{id}/attachments and send their ids",
    );
  }
  const [, meta, data] = match;
  const params = meta.split(";").map((s) => s.trim());
  const mediaType = (params[0] || "text/plain").toLowerCase();
  if (!params.slice(1).includes("base64")) {
    try {
      return { mediaType, bytes: new TextEncoder().encode(decodeURIComponent(data)) };
    } catch {
      throw invalid("invalid_data_url", "The data URL is not validly percent-encoded");
    }
  }
  const base64 = data.replace(/\s+/g, "");
  if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
    throw invalid("invalid_data_url", "The data URL's base64 data is malformed");
  }
  return { mediaType, bytes: new Uint8Array(Buffer.from(base64, "base64")) };
}

const base = (mediaType: string) => mediaType.split(";")[0].trim().toLowerCase();

/** The first bytes each binary type starts with: a file that is not what it says is refused. */
const SIGNATURES: Record<string, (b: Uint8Array) => boolean> = {
  "image/png": (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((x, i) => b[i] === x),
  "image/jpeg": (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  "image/gif": (b) => ascii(b, 0, 4) === "GIF8",
  "image/webp": (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP",
  "application/pdf": (b) => ascii(b, 0, 5) === "%PDF-",
};
const ascii = (b: Uint8Array, from: number, to: number) =>
  String.fromCharCode(...b.subarray(from, to));

/** Checks one file against the limits and its media type; 413, 415 or 422. */
export async function checkedFile(
  limits: AttachmentLimits,
  file: { mediaType: string; filename?: string; bytes: Uint8Array },
  index: number,
): Promise<NewFile> {
  const mediaType = base(file.mediaType);
  if (!allowed(limits, mediaType)) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `Attachments may be ${limits.mediaTypes.join(", ")}; not ${mediaType}`,
    );
  }
  if (file.bytes.byteLength > limits.maxFileBytes) {
    throw new ApiError(
      413,
      "payload_too_large",
      `An attachment is at most ${limits.maxFileBytes} bytes`,
    );
  }
  const signature = SIGNATURES[mediaType];
  if (signature && !signature(file.bytes)) {
    throw invalid("invalid_attachment", `The file's bytes are not ${mediaType}`);
  }
  if (mediaType.startsWith("text/")) {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(file.bytes);
    } catch {
      throw invalid("invalid_attachment", "A text attachment must be UTF-8");
    }
  }
  const digest = await crypto.subtle.digest("SHA-256", file.bytes as Uint8Array<ArrayBuffer>);
  return {
    id: crypto.randomUUID(),
    mediaType,
    filename: cleanName(file.filename) ?? `attachment-${index + 1}`,
    bytes: file.bytes,
    sha256: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(""),
  };
}

/** The name as shown (control characters and path separators dropped, at most 255 characters). */
function cleanName(name: string | undefined) {
  // deno-lint-ignore no-control-regex
  const clean = name?.replace(/[\u0000-\u001f\u007f/\\]+/g, "_").trim().slice(0, 255);
  return clean || undefined;
}

const pathOf = (userId: string, conversationId: string, file: NewFile) =>
  `${userId}/${conversationId}/${file.id}/${file.filename.replace(/[^\w.-]+/g, "_")}`;

// --- Stored rows ---------------------------------------------------------------------------------
interface AttachmentRow {
  id: string;
  storage_path: string;
  media_type: string;
  size_bytes: string | number;
  sha256: string;
  filename: string;
  created_at: Date;
}

export const partOf = (r: AttachmentRow): AttachmentPart => ({
  type: "attachment",
  id: r.id,
  path: r.storage_path,
  media_type: r.media_type,
  size: Number(r.size_bytes),
  sha256: r.sha256,
  filename: r.filename,
});

async function conversationModel(tx: Tx, conversationId: string) {
  const [row] = await tx<{ model: string }[]>`
    select model from public.conversations where id = ${conversationId} and deleted_at is null`;
  if (!row) throw new ApiError(404, "not_found", "Conversation not found");
  return row.model;
}

async function insertRows(tx: Tx, userId: string, conversationId: string, files: NewFile[]) {
  if (files.length === 0) return [];
  return await tx<AttachmentRow[]>`
    insert into public.chat_attachments ${
    tx(files.map((f) => ({
      id: f.id,
      conversation_id: conversationId,
      storage_path: pathOf(userId, conversationId, f),
      media_type: f.mediaType,
      size_bytes: f.bytes.byteLength,
      sha256: f.sha256,
      filename: f.filename,
    })))
  }
    returning id, storage_path, media_type, size_bytes, sha256, filename, created_at`;
}

/** Writes the files' bytes as the user; on a failure, removes what was written and says why. */
async function upload(authorization: string, rows: AttachmentRow[], files: NewFile[]) {
  const bucket = userStorage(authorization).from(BUCKET);
  const written: string[] = [];
  for (const [i, row] of rows.entries()) {
    const { error } = await bucket.upload(row.storage_path, files[i].bytes, {
      contentType: files[i].mediaType,
    });
    if (error) {
      await removeObjects(authorization, written);
      throw new ApiError(502, "storage_failed", `The file could not be stored: ${error.message}`);
    }
    written.push(row.storage_path);
  }
}

async function removeObjects(authorization: string, paths: string[]) {
  if (paths.length === 0) return;
  const { error } = await userStorage(authorization).from(BUCKET).remove(paths);
  if (error) log("error", "attachment files left behind", { paths, error: error.message });
}

// --- Uploading first ---------------------------------------------------------------------------
type C = Context<AuthedEnv>;

/** POST /conversations/:id/attachments: one file from a multipart form field named `file`. */
export async function uploadAttachment(c: C, conversationId: string) {
  const user = c.get("user");
  const limits = await asUser(user.claims, async (tx) => {
    await conversationModel(tx, conversationId);
    return await attachmentLimits(tx);
  });
  const tooLarge = () =>
    new ApiError(413, "payload_too_large", `An attachment is at most ${limits.maxFileBytes} bytes`);
  const body = await readBody(c.req.raw, limits.maxFileBytes + 64 * 1024).catch((e) => {
    throw e instanceof ApiError && e.status === 413 ? tooLarge() : e;
  });
  let form: FormData;
  try {
    form = await new Response(body, {
      headers: { "content-type": c.req.header("content-type") ?? "" },
    }).formData();
  } catch {
    throw new ApiError(400, "invalid_request", "The body is not valid multipart/form-data");
  }
  const part = form.get("file");
  if (!(part instanceof File)) {
    throw new ApiError(400, "invalid_request", 'Send the file in a form field named "file"');
  }
  const file = await checkedFile(limits, {
    mediaType: part.type || "application/octet-stream",
    filename: part.name,
    bytes: new Uint8Array(await part.arrayBuffer()),
  }, 0);
  const authorization = c.req.header("authorization")!;
  const [row] = await asUser(
    user.claims,
    (tx) => insertRows(tx, user.id, conversationId, [file]),
  );
  try {
    await upload(authorization, [row], [file]);
  } catch (e) {
    await asUser(user.claims, (tx) => tx`delete from public.chat_attachments where id = ${row.id}`);
    throw e;
  }
  const [signed] = await signParts(authorization, [partOf(row)], limits.urlSeconds);
  return { ...signed, conversation_id: conversationId, created_at: row.created_at };
}

// --- Sending -----------------------------------------------------------------------------------
/** The stored attachments of a send, and how to take them back if the send does not happen. */
export interface SentFiles {
  parts: AttachmentPart[];
  /** The bytes of inline files by path (the model is sent them without reading them back). */
  bytes: Map<string, Uint8Array>;
  /** Removes the rows and files this send created (not the uploads it referred to). */
  discard(): Promise<void>;
}

/**
 * A send's files checked, before anything is stored: the conversation (404), the limits, the
 * data URLs, the uploaded ids (this conversation's only) and whether the model reads them.
 */
async function checkedSend(
  tx: Tx,
  conversationId: string,
  files: SendFiles,
  model: string | undefined,
) {
  const conversationsModel = await conversationModel(tx, conversationId);
  const limits = await attachmentLimits(tx);
  if (files.inline.length + files.ids.length > limits.maxFiles) {
    throw invalid("too_many_attachments", `A message carries at most ${limits.maxFiles} files`);
  }
  const newFiles = await Promise.all(files.inline.map(async (f, i) => {
    const { mediaType, bytes } = decodeDataUrl(f.url);
    if (base(f.mediaType) !== mediaType) {
      throw invalid(
        "invalid_data_url",
        `The file part says ${f.mediaType}, its data URL ${mediaType}`,
      );
    }
    return await checkedFile(limits, { mediaType, filename: f.filename, bytes }, i);
  }));
  const uploaded = await tx<AttachmentRow[]>`
    select id, storage_path, media_type, size_bytes, sha256, filename, created_at
    from public.chat_attachments
    where id = any(${files.ids}::uuid[]) and conversation_id = ${conversationId}`;
  const missing = files.ids.filter((id) => !uploaded.some((r) => r.id === id));
  if (missing.length) {
    throw invalid(
      "unknown_attachment",
      `Not an attachment of this conversation: ${missing.join(", ")}`,
    );
  }
  const total = uploaded.reduce((n, r) => n + Number(r.size_bytes), 0) +
    newFiles.reduce((n, f) => n + f.bytes.byteLength, 0);
  if (total > limits.maxMessageBytes) {
    throw new ApiError(
      413,
      "payload_too_large",
      `A message's attachments are at most ${limits.maxMessageBytes} bytes together`,
    );
  }
  const [first] = await rememberedModelChain(tx, model ?? conversationsModel);
  refuseUnreadable(first, [
    ...uploaded.map((r) => r.media_type),
    ...newFiles.map((f) => f.mediaType),
  ]);
  return { uploaded, newFiles };
}

/**
 * Checks a send's files and stores the inline ones (rows, then bytes), before the message is:
 * a refusal stores nothing. `model` is the model asked for, if any.
 */
export async function storeSendFiles(
  user: CurrentUser,
  authorization: string,
  conversationId: string,
  files: SendFiles,
  model: string | undefined,
): Promise<SentFiles> {
  const { rows, created } = await asUser(user.claims, async (tx) => {
    const { uploaded, newFiles } = await checkedSend(tx, conversationId, files, model);
    const created = await insertRows(tx, user.id, conversationId, newFiles);
    return { rows: [...uploaded, ...created], created: { rows: created, files: newFiles } };
  });
  const discardRows = () =>
    asUser(user.claims, (tx) =>
      tx`delete from public.chat_attachments
         where id = any(${created.rows.map((r) => r.id)}::uuid[])`);
  try {
    await upload(authorization, created.rows, created.files);
  } catch (e) {
    await discardRows();
    throw e;
  }
  const parts = [
    ...files.ids.map((id) => rows.find((r) => r.id === id)!),
    ...created.rows,
  ].map(partOf);
  return {
    parts,
    bytes: new Map(created.rows.map((r, i) => [r.storage_path, created.files[i].bytes])),
    async discard() {
      if (created.rows.length === 0) return;
      await discardRows();
      await removeObjects(authorization, created.rows.map((r) => r.storage_path));
    },
  };
}

/** Removes one attachment of the conversation: its file from Storage, then its row (404 if none). */
export async function removeAttachment(
  user: CurrentUser,
  authorization: string,
  conversationId: string,
  attachmentId: string,
) {
  const [row] = await asUser(
    user.claims,
    (tx) =>
      tx<{ storage_path: string }[]>`select storage_path from public.chat_attachments
                                     where id = ${attachmentId} and conversation_id = ${conversationId}`,
  );
  if (!row) throw new ApiError(404, "not_found", "Attachment not found");
  await removeStored(authorization, [row.storage_path]);
  await asUser(
    user.claims,
    (tx) => tx`delete from public.chat_attachments where id = ${attachmentId}`,
  );
}

/** Removes files as the user; 502 if Storage did not remove one that is still there. */
async function removeStored(authorization: string, paths: string[]) {
  const bucket = userStorage(authorization).from(BUCKET);
  const { data, error } = await bucket.remove(paths);
  const removed = new Set((data ?? []).map((o) => o.name));
  // Storage leaves out of its answer what it did not remove (missing objects included).
  const left = paths.filter((p) => !removed.has(p));
  if (!error && left.length === 0) return;
  const { data: still } = left.length ? await bucket.createSignedUrls(left, 60) : { data: [] };
  if (error || still?.some((s) => s.signedUrl)) {
    throw new ApiError(
      502,
      "storage_failed",
      `The files could not be removed${error ? `: ${error.message}` : ""}`,
    );
  }
}

/**
 * Before a conversation is deleted: its files leave Storage (as the user), then their rows go.
 * Deleting the conversation itself only hides it until retention purges it, and SQL cannot
 * remove Storage objects, so this is where they go. A failure is a 502 and deletes nothing.
 */
export async function removeConversationFiles(
  user: CurrentUser,
  authorization: string,
  conversationId: string,
) {
  const rows = await asUser(
    user.claims,
    (tx) =>
      tx<{ storage_path: string }[]>`select storage_path from public.chat_attachments
                                     where conversation_id = ${conversationId}`,
  );
  if (rows.length === 0) return;
  await removeStored(authorization, rows.map((r) => r.storage_path));
  await asUser(
    user.claims,
    (tx) => tx`delete from public.chat_attachments where conversation_id = ${conversationId}`,
  );
}

/** 422 unsupported_attachment unless `spec` reads every one of these media types. */
function refuseUnreadable(spec: ModelSpec, mediaTypes: string[]) {
  const unreadable = [...new Set(mediaTypes.filter((t) => !readsFile(spec, t)))];
  if (unreadable.length) {
    throw invalid(
      "unsupported_attachment",
      `${spec.alias} cannot read ${unreadable.join(", ")} files`,
    );
  }
}

/**
 * Before a regeneration: the model that will answer (`model`, or the conversation's) must read
 * the files of the user message answered again, as for a send. (Unknown messages are prepare's
 * 404; this only refuses.)
 */
export async function checkRegenerateFiles(
  user: CurrentUser,
  conversationId: string,
  messageId: string,
  model: string | undefined,
) {
  const [row] = await asUser(user.claims, (tx) =>
    tx<{ model: string; media_types: string[] }[]>`
      select c.model, array_agg(p ->> 'media_type') as media_types
      from public.messages r
      join public.conversations c on c.id = r.conversation_id
      join public.messages u on u.id = case when r.role = 'user' then r.id else r.parent_id end
      cross join lateral jsonb_array_elements(u.parts) p
      where r.id = ${messageId} and r.conversation_id = ${conversationId}
        and p ->> 'type' = 'attachment'
      group by c.model`);
  if (!row) return;
  const alias = model ?? row.model;
  // The registry this instance remembers may be behind (a model added since): then read it again.
  const [first] = await rememberedChatModels(sql).then((m) => m.chain(alias))
    .catch(() => rememberedChatModels(sql, { fresh: true }).then((m) => m.chain(alias)));
  refuseUnreadable(first, row.media_types);
}

// --- Model inputs ------------------------------------------------------------------------------
/** Reads a stored file's bytes as the user who sent it. */
export type AttachmentReader = (part: AttachmentPart) => Promise<Uint8Array>;

export function attachmentReader(
  authorization: string,
  known: Map<string, Uint8Array> = new Map(),
): AttachmentReader {
  return async (part) => {
    const bytes = known.get(part.path);
    if (bytes) return bytes;
    const { data, error } = await userStorage(authorization).from(BUCKET).download(part.path);
    if (error || !data) throw new Error(`attachment ${part.id} unreadable: ${error?.message}`);
    // The object must still be the file the message describes (it lives in the user's folder).
    if (data.size !== part.size) throw new Error(`attachment ${part.id} changed since it was sent`);
    return new Uint8Array(await data.arrayBuffer());
  };
}

const describe = (p: AttachmentPart, why: string) =>
  `[Attachment ${p.filename} (${p.media_type}, ${p.size} bytes): ${why}]`;

/**
 * The history with each user message's files to send (`files`), the newest first up to
 * `historyBytes` (the newest message's always, they were checked against `spec`); files left
 * out, or that `spec` cannot read, become a line of the message's text.
 */
export async function withFiles(
  history: HistoryMessage[],
  spec: ModelSpec,
  read: AttachmentReader | undefined,
  historyBytes: number,
): Promise<HistoryMessage[]> {
  let budget = historyBytes;
  const out: HistoryMessage[] = [];
  for (const [i, message] of [...history].reverse().entries()) {
    const attachments = message.attachments ?? [];
    if (attachments.length === 0) {
      out.push(message);
      continue;
    }
    const files: FileInput[] = [];
    const notes: string[] = [];
    for (const p of attachments) {
      const newest = i === 0;
      if (!read) notes.push(describe(p, "not available"));
      else if (!readsFile(spec, p.media_type)) notes.push(describe(p, "this model cannot read it"));
      else if (!newest && p.size > budget) notes.push(describe(p, "sent earlier, not repeated"));
      else {
        const bytes = await read(p).catch((e) => {
          log("warn", "attachment not read", { id: p.id, error: String(e) });
          return null;
        });
        if (!bytes) {
          notes.push(describe(p, "could not be read"));
          continue;
        }
        if (!newest) budget -= p.size;
        notes.push(`[Attached: ${p.filename} (${p.media_type})]`); // summaries keep the name
        files.push({
          type: "file",
          mediaType: p.media_type,
          filename: p.filename,
          data: Buffer.from(bytes).toString("base64"),
        });
      }
    }
    const content = [message.content, ...notes].filter(Boolean).join("\n");
    out.push({ ...message, content, files });
  }
  return out.reverse();
}

// --- Answers: signed links -----------------------------------------------------------------------
/** The parts with signed links to their files (valid `seconds`), as the user may read them. */
export async function signParts(
  authorization: string,
  parts: AttachmentPart[],
  seconds: number,
): Promise<AttachmentPart[]> {
  if (parts.length === 0) return parts;
  const { data, error } = await userStorage(authorization).from(BUCKET)
    .createSignedUrls(parts.map((p) => p.path), seconds);
  if (error) log("warn", "attachment links not signed", { error: error.message });
  const expires = new Date(Date.now() + seconds * 1000).toISOString();
  return parts.map((p) => {
    const url = data?.find((d) => d.path === p.path)?.signedUrl;
    return url ? { ...p, url, url_expires_at: expires } : p;
  });
}

/** Messages as answered: their attachment parts with signed links (the caller's JWT). */
export async function withSignedLinks<M extends { parts: { type: string }[] }>(
  user: CurrentUser,
  authorization: string,
  messages: M[],
): Promise<M[]> {
  const parts = messages.flatMap((m) =>
    m.parts.filter((p): p is AttachmentPart => p.type === "attachment")
  );
  if (parts.length === 0) return messages;
  const { urlSeconds } = await asUser(user.claims, attachmentLimits);
  const signed = await signParts(authorization, parts, urlSeconds);
  const byId = new Map(signed.map((p) => [p.path, p]));
  return messages.map((m) => ({
    ...m,
    parts: m.parts.map((p) => p.type === "attachment" ? byId.get((p as AttachmentPart).path)! : p),
  }));
}
