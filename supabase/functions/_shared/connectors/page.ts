// Cursor pages for the inbox lists: rows come back one over the limit, so a next cursor is only
// given when there is more; the cursor is the last row's (time, id).
import { z } from "zod";
import { decodeCursor, encodeCursor } from "../validate.ts";

export const PageCursor = z.strictObject({ t: z.iso.datetime({ offset: true }), id: z.uuid() });

export const readCursor = (cursor: string | undefined) =>
  cursor ? decodeCursor(PageCursor, cursor) : undefined;

export function page<T>(rows: T[], limit: number, key: (row: T) => { t: Date; id: string }) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const next = rows.length > limit && last ? key(last) : null;
  return {
    items,
    next_cursor: next ? encodeCursor({ t: next.t.toISOString(), id: next.id }) : null,
  };
}
