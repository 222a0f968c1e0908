// Token counts and cost as every API answer shows them: counts as stored, cost (stored in
// micro-USD) in USD.
import { z } from "@hono/zod-openapi";

export const UsageTotals = z.object({
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cached_read_tokens: z.number().int(),
  cache_write_tokens: z.number().int(),
  reasoning_tokens: z.number().int(),
  cost_usd: z.number(),
}).openapi("UsageTotals");

export interface UsageColumns {
  input_tokens: number;
  output_tokens: number;
  cached_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_micro_usd: number;
}

export const usageTotals = (r: UsageColumns): z.infer<typeof UsageTotals> => ({
  input_tokens: r.input_tokens,
  output_tokens: r.output_tokens,
  cached_read_tokens: r.cached_read_tokens,
  cache_write_tokens: r.cache_write_tokens,
  reasoning_tokens: r.reasoning_tokens,
  cost_usd: r.cost_micro_usd / 1e6,
});
