// Uploads never sent (POST /conversations/:id/attachments, then no message named them): the
// recovery job's step `unsent_uploads` finds those older than `chat.attachments.unsent_after`
// and posts their ids to POST /chat-jobs/unsent-uploads, which lands here. The ids are checked
// again against the same rule (private.unsent_uploads: a file sent since the post is kept), the
// objects are removed from Storage first (as the service role: there is no user), and only the
// rows whose object is gone are deleted. What fails stays, and the next run finds it again.
import { sql } from "../db.ts";
import { log } from "../http.ts";
import { removeObjects, serviceAuthorization } from "../storage.ts";
import { BUCKET } from "./attachments.ts";

export interface SweepResult {
  removed: number;
  kept: number;
}

export async function removeUnsentUploads(ids: string[]): Promise<SweepResult> {
  const stale = await sql<{ id: string; storage_path: string }[]>`
    select id, storage_path from private.unsent_uploads(${ids}::uuid[], ${ids.length})`;
  if (stale.length === 0) return { removed: 0, kept: ids.length };
  const failed = await removeObjects(
    serviceAuthorization(),
    BUCKET,
    stale.map((r) => r.storage_path),
  );
  if (failed) {
    log("warn", "unsent uploads not removed from Storage", { error: failed });
    return { removed: 0, kept: ids.length };
  }
  const deleted = await sql`
    delete from public.chat_attachments where id = any(${stale.map((r) => r.id)}::uuid[])
    returning id`;
  return { removed: deleted.length, kept: ids.length - deleted.length };
}
