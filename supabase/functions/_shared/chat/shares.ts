// Share links (table conversation_shares): a frozen, read-only copy of a conversation's active
// branch, readable by anyone holding the token. The token is 32 random bytes (base64url), shown
// once; only its sha256 is stored, so a database leak gives no working links.
import { sql, type Tx } from "../db.ts";
import { ApiError } from "../http.ts";
import { sha256Hex } from "../inbox/refs.ts";
import { findConversation } from "./conversations.ts";
import type { Part } from "./parts.ts";

/** A share token's shape: 32 bytes in unpadded base64url. */
export const SHARE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

function newToken(): string {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

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

export interface SharedConversation {
  title: string | null;
  shared_at: Date;
  messages: {
    id: string;
    role: "user" | "assistant";
    parts: Part[];
    content: string;
    model: string | null;
    created_at: string;
  }[];
}

/** What a token shows, for anyone (no user): 404 for an unknown, revoked or deleted share. */
export async function readShare(token: string): Promise<SharedConversation> {
  if (!SHARE_TOKEN.test(token)) throw new ApiError(404, "not_found", "Share not found");
  const [row] = await sql<{ title: string | null; messages: unknown; created_at: Date }[]>`
    select * from private.read_share(${await sha256Hex(token)})`;
  if (!row) throw new ApiError(404, "not_found", "Share not found");
  return {
    title: row.title,
    shared_at: row.created_at,
    messages: row.messages as SharedConversation["messages"],
  };
}
