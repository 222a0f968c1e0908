// Saving a reply while it streams, so a crash, a timeout or a closed tab never loses what was
// generated, and noticing stop requests made from any instance.
import { sql } from "../db.ts";
import { log } from "../http.ts";
import type { ModelSpec } from "../llm/types.ts";
import type { Part } from "./parts.ts";

/**
 * One write a second while the reply runs: what changed, or a heartbeat (recovery counts on
 * one, scheduled_work.sql) that also notices stop requests before any token arrives. A crash
 * loses at most the last second; a follower on another instance reads it a second at a time
 * too (replay.ts). Each write is a statement and its parts' JSON: at 4 a second, as before,
 * they were a quarter of the functions' CPU while streaming.
 */
const INTERVAL_MS = 1000;

/** What is saved: read when a write goes out, so updates between writes cost nothing. */
export interface ReplySoFar {
  readonly parts: Part[];
  readonly content: string;
}

/** Saves the reply so far: the first token at once, then once a second (see INTERVAL_MS). */
export class ProgressSaver {
  #reply: ReplySoFar | null = null;
  #model?: ModelSpec;
  #ttftMs?: number;
  #dirty = false;
  #writing: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval>;

  constructor(private readonly messageId: string, private readonly onStop: () => void) {
    this.#timer = setInterval(() => this.#flush(), INTERVAL_MS);
  }

  update(reply: ReplySoFar, model: ModelSpec | undefined, ttftMs: number | undefined) {
    const first = this.#reply === null;
    this.#reply = reply;
    this.#model = model;
    this.#ttftMs = ttftMs;
    this.#dirty = true;
    if (first) this.#flush();
  }

  #flush() {
    this.#dirty = false;
    // Taken now, in one piece: the parts keep growing while the write waits for a connection.
    const parts = JSON.stringify(this.#reply?.parts ?? []);
    const content = this.#reply?.content ?? "";
    const model = this.#model;
    const ttftMs = this.#ttftMs ?? null;
    this.#writing = this.#writing.then(async () => {
      const [row] = await sql<{ stop: boolean | null }[]>`
        select private.save_progress(${this.messageId}, ${parts}::text::jsonb, ${content},
          ${model?.alias ?? null}, ${model?.provider ?? null}, ${model?.providerModel ?? null},
          ${ttftMs}) as stop`;
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
