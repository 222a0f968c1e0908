// The connectors' contract: what a platform adapter (slack.ts, microsoft.ts, telegram.ts) hands
// to the shared store (events.ts), and the shapes the routes answer with.

export type Provider = "slack" | "outlook" | "telegram";
export const PROVIDERS: Provider[] = ["slack", "outlook", "telegram"];

export interface LinkedAccount {
  id: string;
  user_id: string;
  provider: Provider;
  provider_account_id: string;
  scopes: string | null;
  status: "active" | "revoked" | "error";
  metadata: Record<string, unknown>;
  last_event_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  created_at: Date;
}

/** A person as a platform describes them; entities.ts turns it into merge keys. */
export interface PersonRef {
  /** Platform identity, e.g. `slack:T1:U1`, `telegram:42`. */
  platformId?: string;
  name?: string | null;
  email?: string | null;
  /** Username without "@" (Slack name, Telegram username). */
  handle?: string | null;
}

/** Signals importance is computed from (events.ts importanceScore). */
export interface ImportanceSignals {
  directMessage?: boolean;
  mentionsUser?: boolean;
  /** Mail: the user is in To (true) or only in Cc (false). */
  addressedTo?: boolean;
  ccOnly?: boolean;
  /** A reply in a thread the user started or took part in. */
  replyInUserThread?: boolean;
  /** Written by the user themselves. */
  fromUser?: boolean;
}

/** One message as the store writes it, for one linked account. */
export interface NormalizedEvent {
  externalId: string;
  eventType: string;
  thread?: { externalId: string; subject?: string | null } | null;
  title?: string | null;
  body?: string | null;
  url?: string | null;
  sender?: PersonRef | null;
  /** Other people (recipients, mentioned users): merged as entities, listed on the thread. */
  participants?: PersonRef[];
  occurredAt: Date;
  signals?: ImportanceSignals;
  raw?: unknown;
}

/** The answer of an OAuth callback (seed 004 5.2). */
export interface ConnectResult {
  linked_account_id: string;
  provider: Provider;
  provider_account_id: string;
  status: "active";
}

/** A platform refused or failed; `retryAfter` seconds when it said so (429). */
export class PlatformError extends Error {
  constructor(
    readonly provider: Provider,
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}
