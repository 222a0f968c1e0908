// What the platform webhooks share: the raw body (signatures are computed over the exact bytes),
// read with a size cap before anything else, and parsed as JSON only after the proof is checked.
import type { Context } from "hono";
import { ApiError } from "../http.ts";

/** Slack, Graph and Telegram deliveries are small; anything larger is refused unread. */
export const MAX_WEBHOOK_BYTES = 1_000_000;

export async function rawBody(
  c: Context,
  maxBytes = MAX_WEBHOOK_BYTES,
): Promise<Uint8Array<ArrayBuffer>> {
  if (Number(c.req.header("content-length") ?? 0) > maxBytes) throw tooLarge(maxBytes);
  const bytes = new Uint8Array(await c.req.raw.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  return bytes;
}

const tooLarge = (max: number) =>
  new ApiError(413, "payload_too_large", `The body is larger than ${max} bytes`);

/** JSON of an already authenticated body; 400 when it is not JSON. */
export function parseJson(bytes: Uint8Array): Record<string, unknown> {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes));
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch { /* fall through */ }
  throw new ApiError(400, "invalid_json", "The body is not a JSON object");
}
