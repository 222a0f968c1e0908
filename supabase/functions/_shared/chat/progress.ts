// Saving a reply while it streams, so a crash, a timeout or a closed tab never loses what was
// generated, and noticing stop requests made from any instance.
import { jsonb, sql } from "../db.ts";
import { log } from "../http.ts";
import type { ModelSpec } from "../llm/types.ts";
import type { Part } from "./parts.ts";

const PROGRESS_INTERVAL_MS = 250;
const HEARTBEAT_MS = 1000;

/**
 * Saves the reply so far at a bounded rate (first token at once, then at most every 250 ms,
 * and a heartbeat every second that also notices stop requests before any token arrives).
 */
export class ProgressSaver {
  #snapshot: { parts: Part[]; content: string; model?: ModelSpec; ttftMs?: number } | null = null;
  #dirty = false;
  #written = false;
  #lastWrite = 0;
  #writing: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval>;

  constructor(private readonly messageId: string, private readonly onStop: () => void) {
    this.#timer = setInterval(() => this.#tick(), PROGRESS_INTERVAL_MS);
  }

  update(parts: Part[], content: string, model: ModelSpec | undefined, ttftMs: number | undefined) {
    this.#snapshot = { parts, content, model, ttftMs };
    this.#dirty = true;
    if (!this.#written) this.#flush();
  }

  #tick() {
    const idle = performance.now() - this.#lastWrite;
    if (this.#dirty || idle >= HEARTBEAT_MS) this.#flush();
  }

  #flush() {
    const snap = this.#snapshot;
    this.#dirty = false;
    // A heartbeat before any token is not the first write: the first token still goes at once.
    if (snap) this.#written = true;
    this.#lastWrite = performance.now();
    this.#writing = this.#writing.then(async () => {
      const [row] = await sql<{ stop: boolean | null }[]>`
        select private.save_progress(${this.messageId}, ${jsonb(snap?.parts ?? [])},
          ${snap?.content ?? ""}, ${snap?.model?.alias ?? null}, ${snap?.model?.provider ?? null},
          ${snap?.model?.providerModel ?? null}, ${snap?.ttftMs ?? null}) as stop`;
      if (row?.stop) this.onStop();
    }).catch((e) =>
      log("warn", "progress not saved", { message_id: this.messageId, error: String(e) })
    );
  }

  /** Writes what changed since the last write (the served model, the last parts), then stops. */
  async stop() {
    clearInterval(this.#timer);
    if (this.#dirty) this.#flush();
    await this.#writing;
  }
}
