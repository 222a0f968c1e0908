// Response schemas the inbox's functions share (summaries, proposals, drafts), for their routes
// and the OpenAPI document.
import { z } from "@hono/zod-openapi";
import { SummaryContent } from "./types.ts";

export const SourceRefSchema = z.object({
  type: z.string(),
  id: z.uuid(),
  source: z.string().optional(),
}).openapi("SourceRef");

export const SummarySchema = z.object({
  id: z.uuid(),
  window_start: z.string(),
  window_end: z.string(),
  sources: z.array(z.string()).nullable(),
  topic: z.string().nullable(),
  content: SummaryContent,
  source_refs: z.array(SourceRefSchema),
  meta: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Summary");

export const ProposalSchema = z.object({
  id: z.uuid(),
  kind: z.enum(["follow_up", "schedule", "reply", "delegate", "other"]),
  status: z.enum(["pending", "accepted", "dismissed"]),
  content_json: z.record(z.string(), z.unknown()),
  source_refs: z.array(SourceRefSchema),
  source_event_id: z.uuid().nullable(),
  window_start: z.string(),
  window_end: z.string(),
  task_id: z.uuid().nullable(),
  prompt_id: z.uuid().nullable(),
  decided_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Proposal");

export const DraftKind = z.enum(["slack_reply", "telegram_reply", "outlook_reply", "note"]);
export const DraftStatus = z.enum(["draft", "sending", "sent", "failed", "discarded"]);

export const DraftSchema = z.object({
  id: z.uuid(),
  kind: DraftKind,
  content_json: z.object({ text: z.string(), subject: z.string().optional() }),
  content_hash: z.string(),
  source_refs: z.array(SourceRefSchema),
  source_event_id: z.uuid().nullable(),
  status: DraftStatus,
  send_attempts: z.number().int(),
  sent_at: z.string().nullable(),
  sent_external_id: z.string().nullable(),
  send_error: z.string().nullable(),
  prompt_id: z.uuid().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Draft");

export const PageQuery = {
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(30),
};
