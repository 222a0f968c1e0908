// The chat module's file sweeps, which the recovery job starts and POST /chat-jobs/* runs (SQL
// cannot remove Storage objects on a hosted project):
// - unsent uploads (step `unsent_uploads`): attachments no message names once
//   `chat.attachments.unsent_after` has passed (rule private.unsent_uploads); this also takes the
//   attachments of a conversation retention is purging, once its messages are gone;
// - artifacts of a conversation retention is purging (step `deleted_artifacts`, rule
//   private.purgeable_artifacts), whose purge waits for them (20261201170000).
// Each posted id is checked again against its rule (a file sent since the post is kept), the
// objects are removed from Storage first (as the service role: there is no user), and only the
// rows whose object is gone are deleted. What fails stays, and the next run finds it again.
import { sql } from "../db.ts";
import { log } from "../http.ts";
import { removeObjects, serviceAuthorization } from "../storage.ts";
import { ARTIFACTS_BUCKET } from "./artifacts.ts";
import { BUCKET as ATTACHMENTS_BUCKET } from "./attachments.ts";

export interface SweepResult {
  removed: number;
  kept: number;
}

type Found = { id: string; path: string }[];

async function sweep(
  ids: string[],
  what: {
    name: string;
    bucket: string;
    found: Found;
    deleteRows: (ids: string[]) => Promise<number>;
  },
): Promise<SweepResult> {
  if (what.found.length === 0) return { removed: 0, kept: ids.length };
  const failed = await removeObjects(
    serviceAuthorization(),
    what.bucket,
    what.found.map((r) => r.path),
  );
  if (failed) {
    log("warn", `${what.name} not removed from Storage`, { error: failed });
    return { removed: 0, kept: ids.length };
  }
  const removed = await what.deleteRows(what.found.map((r) => r.id));
  return { removed, kept: ids.length - removed };
}

export async function removeUnsentUploads(ids: string[]): Promise<SweepResult> {
  return sweep(ids, {
    name: "unsent uploads",
    bucket: ATTACHMENTS_BUCKET,
    found: await sql<Found>`
      select id, storage_path as path from private.unsent_uploads(${ids}::uuid[], ${ids.length})`,
    deleteRows: async (found) =>
      (await sql`delete from public.chat_attachments where id = any(${found}::uuid[]) returning id`)
        .length,
  });
}

export async function removePurgeableArtifacts(ids: string[]): Promise<SweepResult> {
  return sweep(ids, {
    name: "artifacts of purged conversations",
    bucket: ARTIFACTS_BUCKET,
    found: await sql<Found>`
      select id, object_path as path from private.purgeable_artifacts(${ids}::uuid[], ${ids.length})`,
    deleteRows: async (found) =>
      (await sql`delete from public.artifacts where id = any(${found}::uuid[]) returning id`)
        .length,
  });
}
