// Share links (table conversation_shares): a frozen, read-only copy of a conversation's active
// branch, readable by anyone holding the token. The token is 32 random bytes (base64url), shown
// once; only its sha256 is stored, so a database leak gives no working links.
//
// What the reader sees is decided here (`forReader`): the frozen copy keeps each attachment's
// storage path (it names the owner's folder, so their user id), the answer never does. A share
// made with include_attachments gives each attachment and artifact a `url` under the share's own
// link (`GET /shared/:token/files/:id`): it works exactly as long as the link does (revoking ends
// it at once), and it reaches only files the frozen copy names (private.shared_file).
import { sql, type Tx } from "../db.ts";
import { ApiError } from "../http.ts";
import { sha256Hex } from "../inbox/refs.ts";
import { findConversation } from "./conversations.ts";
import type { Part } from "./parts.ts";
import type { SharedPartSchema } from "./schemas.ts";
import type { z } from "@hono/zod-openapi";

/** A share token's shape: 32 bytes in unpadded base64url. */
export const SHARE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

function newToken(): string {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** The link a share is read at (and its files are under). */
export const shareUrl = (token: string) =>
  `${Deno.env.get("SUPABASE_URL")}/functions/v1/shared/${token}`;

export interface ShareRow {
  id: string;
  conversation_id: string;
  include_attachments: boolean;
  message_count: number;
  created_at: Date;
}

const SHARE_COLUMNS = `id, conversation_id, include_attachments,
  jsonb_array_length(messages) as message_count, created_at`;

/** Freezes the conversation's active branch as it is now; the token is returned only here. */
export async function createShare(tx: Tx, conversationId: string, includeAttachments: boolean) {
  await findConversation(tx, conversationId);
  const token = newToken();
  const [share] = await tx.unsafe<ShareRow[]>(
    `insert into public.conversation_shares (conversation_id, token_hash, include_attachments)
     values ($1, $2, $3) returning ${SHARE_COLUMNS}`,
    [conversationId, await sha256Hex(token), includeAttachments],
  );
  return { ...share, token };
}

export async function listShares(tx: Tx, conversationId: string) {
  await findConversation(tx, conversationId);
  return await tx.unsafe<ShareRow[]>(
    `select ${SHARE_COLUMNS} from public.conversation_shares
     where conversation_id = $1 order by created_at desc, id`,
    [conversationId],
  );
}

/** Revokes a share: its link stops working at once. 404 if it is not one of this conversation's. */
export async function deleteShare(tx: Tx, conversationId: string, shareId: string) {
  const deleted = await tx`
    delete from public.conversation_shares
    where id = ${shareId} and conversation_id = ${conversationId} returning id`;
  if (deleted.length === 0) throw new ApiError(404, "not_found", "Share not found");
}

type SharedPart = z.infer<typeof SharedPartSchema>;

export interface SharedConversation {
  title: string | null;
  shared_at: Date;
  messages: {
    id: string;
    role: "user" | "assistant";
    parts: SharedPart[];
    content: string;
    model: string | null;
    created_at: string;
  }[];
}

/** The one rule for what a reader sees of a frozen part. */
function forReader(part: Part, token: string): SharedPart {
  if (part.type === "attachment") {
    const { path: _path, url: _url, url_expires_at: _expires, ...visible } = part;
    return { ...visible, url: `${shareUrl(token)}/files/${part.id}` };
  }
  if (part.type === "artifact") return { ...part, url: `${shareUrl(token)}/files/${part.id}` };
  return part;
}

/** What a token shows, for anyone (no user): 404 for an unknown, revoked or deleted share. */
export async function readShare(token: string): Promise<SharedConversation> {
  if (!SHARE_TOKEN.test(token)) throw new ApiError(404, "not_found", "Share not found");
  const [row] = await sql<{ title: string | null; messages: unknown; created_at: Date }[]>`
    select * from private.read_share(${await sha256Hex(token)})`;
  if (!row) throw new ApiError(404, "not_found", "Share not found");
  type Frozen = Omit<SharedConversation["messages"][number], "parts"> & { parts: Part[] };
  const messages = row.messages as Frozen[];
  return {
    title: row.title,
    shared_at: row.created_at,
    messages: messages.map((m) => ({ ...m, parts: m.parts.map((p) => forReader(p, token)) })),
  };
}

export interface SharedFile {
  bucket: string;
  object_path: string;
  media_type: string;
  filename: string;
  sha256: string;
}

/**
 * The Storage object behind a shared file id: only a file the frozen copy of a live share made
 * with include_attachments names (private.shared_file); 404 for anything else.
 */
export async function findSharedFile(token: string, fileId: string): Promise<SharedFile> {
  const notFound = new ApiError(404, "not_found", "File not found");
  if (!SHARE_TOKEN.test(token)) throw notFound;
  const [file] = await sql<SharedFile[]>`
    select * from private.shared_file(${await sha256Hex(token)}, ${fileId})`;
  if (!file) throw notFound;
  return file;
}
