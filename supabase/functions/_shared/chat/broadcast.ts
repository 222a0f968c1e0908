// The events of one reply, kept so that a reader who starts late still gets all of them, and
// so that generation never waits for (or dies with) the HTTP response that reads them.
import type { ChatStreamEvent } from "../stream/events.ts";

export class ReplyEvents {
  #events: ChatStreamEvent[] = [];
  #closed = false;
  #wake = new Set<() => void>();

  push(event: ChatStreamEvent) {
    if (this.#closed) return;
    this.#events.push(event);
    this.#notify();
  }

  close() {
    this.#closed = true;
    this.#notify();
  }

  #notify() {
    for (const wake of this.#wake) wake();
    this.#wake.clear();
  }

  /** Every event from the first; ends when the reply is closed or the reader returns. */
  read(): AsyncIterableIterator<ChatStreamEvent> {
    let next = 0;
    let done = false;
    let wake: (() => void) | undefined;
    const iterator: AsyncIterableIterator<ChatStreamEvent> = {
      next: async () => {
        while (!done) {
          if (next < this.#events.length) return { value: this.#events[next++], done: false };
          if (this.#closed) break;
          await new Promise<void>((resolve) => {
            wake = resolve;
            this.#wake.add(resolve);
          });
        }
        return { value: undefined, done: true };
      },
      return: () => {
        done = true;
        if (wake) {
          this.#wake.delete(wake);
          wake();
        }
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
