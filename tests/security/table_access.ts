// Who may do what with every table and view of the exposed schemas, through PostgREST with a
// real JWT. tests/security/rls_matrix_test.ts checks every cell against the running stack, as the
// row's owner, another user, an admin and anon, and fails on any table or view that is not
// declared here: a new table gets a line here (and a fixture there) or the suite fails.
//
// read: who reads rows.
//   owner-only       the owner reads their rows; other users and anon see nothing
//   shared-readable  as owner-only, and every signed-in user reads the rows marked shared
//   admin-only       admins read every row; everybody else sees nothing
//   service-only     nobody reads or writes through the API: functions and jobs only
//   public-config    every signed-in user reads every row (per row rules); anon sees nothing
// owner: what the owner may do to their own rows (insert, update, delete). Many tables are
//   written only by the functions (assistant messages, usage, search chunks), so [].
// admin: what an admin may do to rows that are not theirs, besides what `read` gives everyone.
//
// Everything not listed is refused: 401/403, or no row affected, and the stored row unchanged.
// Column rules (e.g. a user may change their display name but not their role) are finer than
// this table; the fixtures' updates use a column the owner is allowed to change.

export type Read =
  | "owner-only"
  | "shared-readable"
  | "admin-only"
  | "service-only"
  | "public-config";
export type Write = "insert" | "update" | "delete";

export interface Access {
  read: Read;
  owner: Write[];
  admin: ("select" | Write)[];
  /** Why, where the line alone does not say it. */
  note?: string;
  /** The columns callers may read, when column privileges hide the others (PostgREST's `select=`). */
  columns?: string;
}

const none: never[] = [];

// deno-fmt-ignore
export const TABLE_ACCESS: Record<string, Access> = {
  // table               read                     owner may                            admin may
  profiles:            { read: "owner-only",      owner: ["update"],                   admin: ["select"], note: "display name, time zone, preferences; never role or budget" },
  conversations:       { read: "owner-only",      owner: ["insert", "update"],         admin: none, note: "no delete: soft delete through update, purged by retention" },
  messages:            { read: "owner-only",      owner: ["insert", "update"],         admin: none, note: "user-role inserts in own conversations; update = stop request only" },
  tool_usage:          { read: "owner-only",      owner: none,                         admin: none, note: "view over messages" },
  usage_ledger:        { read: "owner-only",      owner: none,                         admin: ["select"] },
  usage_daily:         { read: "owner-only",      owner: none,                         admin: ["select"] },
  rate_limit_counters: { read: "owner-only",      owner: none,                         admin: none },
  documents:           { read: "shared-readable", owner: ["insert", "update", "delete"], admin: none },
  document_grants:     { read: "owner-only",      owner: ["insert", "delete"],         admin: none, note: "owner = the document's owner; the grantee reads it too" },
  search_index:        { read: "shared-readable", owner: none,                         admin: none, note: "written by ingestion" },
  ingestion_jobs:      { read: "owner-only",      owner: none,                         admin: ["select"] },
  job_runs:            { read: "admin-only",      owner: none,                         admin: ["select"] },
  app_settings:        { read: "public-config",   owner: none,                         admin: none, note: "changed with SQL only" },
  models:              { read: "public-config",   owner: none,                         admin: ["select", "insert", "update"], note: "users read enabled models only; base_url and api_key_env are nobody's to read", columns: "alias,provider,display_name,enabled" },
  model_prices:        { read: "public-config",   owner: none,                         admin: ["insert"], note: "append-only" },
  linked_accounts:     { read: "owner-only",      owner: none,                         admin: none, note: "connect and disconnect through the connectors function (revokes at the platform)" },
  oauth_tokens:        { read: "service-only",    owner: none,                         admin: none, note: "ciphertext never readable through the API, not even by its owner" },
  threads:             { read: "owner-only",      owner: none,                         admin: none, note: "written by the connectors" },
  events:              { read: "owner-only",      owner: ["delete"],                   admin: none, note: "written by the connectors; deleting removes the index rows too" },
  entities:            { read: "owner-only",      owner: none,                         admin: none, note: "people merged across sources by the connectors" },
  notes:               { read: "owner-only",      owner: ["insert", "update", "delete"], admin: none },
  index_jobs:          { read: "owner-only",      owner: none,                         admin: ["select"], note: "indexing of events, notes and threads" },
  goals:               { read: "owner-only",      owner: ["insert", "update"],         admin: none, note: "abandoned, never deleted (analytics keep the history)" },
  micro_goals:         { read: "owner-only",      owner: ["insert", "update", "delete"], admin: none, note: "a modify plan replaces the ones not done" },
  task_series:         { read: "owner-only",      owner: ["insert", "update", "delete"], admin: none },
  tasks:               { read: "owner-only",      owner: ["insert", "update", "delete"], admin: none, note: "shared by the inbox and the planner" },
  calendar_events:     { read: "owner-only",      owner: ["insert", "update", "delete"], admin: none },
  patterns:            { read: "owner-only",      owner: ["update", "delete"],         admin: none, note: "written by the pattern observer (private.record_patterns); the user confirms, overrides (status, override) or deletes" },
  plans:               { read: "owner-only",      owner: ["insert", "update"],         admin: none, note: "kept as the record of what was approved" },
  planner_categories:  { read: "public-config",   owner: none,                         admin: none, note: "the classifier's taxonomy; changed with SQL only" },
  planner_weekly_stats:      { read: "owner-only", owner: none,                        admin: none, note: "invoker view over a materialized view in private, the caller's rows only" },
  planner_missed_by_category: { read: "owner-only", owner: none,                       admin: none, note: "as planner_weekly_stats" },
  planner_activity_heatmap:  { read: "owner-only", owner: none,                        admin: none, note: "as planner_weekly_stats" },
  phone_verifications: { read: "owner-only",      owner: none,                         admin: none, note: "written by POST /account/phone/verify/* (definer functions)" },
  push_subscriptions:  { read: "owner-only",      owner: ["delete"],                   admin: none, note: "saved by POST /push/subscriptions, which checks the endpoint is a push service's" },
  notification_log:    { read: "owner-only",      owner: none,                         admin: none, note: "written by the reminder tick and its dispatchers" },
  summaries:           { read: "owner-only",      owner: ["delete"],                   admin: none, note: "model output, written by the prompts function; reused by later prompts" },
  prompts:             { read: "owner-only",      owner: none,                         admin: none, note: "the record of POST /prompts, written by the function" },
  proposals:           { read: "owner-only",      owner: ["update"],                   admin: none, note: "update = the decision (status), once" },
  drafts:              { read: "owner-only",      owner: ["update"],                   admin: none, note: "update = the text, or discarding; only POST /drafts/:id/send sends" },
  message_feedback:    { read: "owner-only",      owner: ["insert", "update", "delete"], admin: ["select"], note: "on the owner's own assistant replies only; admins read all for the feedback report" },
  conversation_shares: { read: "owner-only",      owner: ["insert", "delete"],         admin: none, note: "the copy is taken by a trigger from the stored messages, never from the caller; read by token through the shared function" },
  artifacts:           { read: "owner-only",      owner: none,                         admin: none, note: "files chat tools made; written by the function after the Storage upload, so a row always has its object" },
  chat_attachments:    { read: "owner-only",      owner: ["insert", "delete"],         admin: none, note: "files sent with messages (bytes in Storage, chat-attachments bucket); the path must be in the owner's folder of that conversation" },
  inbox_digests:       { read: "owner-only",      owner: ["insert", "update", "delete"], admin: none, note: "the user's opt-in to scheduled summaries" },
};
