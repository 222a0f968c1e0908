// Background calls to the cheap utility model: conversation titles and history summaries.
// Metered like every provider call (product steps "title" and "summary").
import { sql } from "../db.ts";
import { streamChat } from "../llm/stream.ts";
import type { ModelSpec } from "../llm/types.ts";
import type { HistoryMessage } from "./context.ts";
import type { Meter } from "./ledger.ts";

async function complete(
  chain: ModelSpec[],
  system: string,
  user: string,
  meter: Meter,
) {
  let text = "";
  const stream = streamChat(chain, {
    system,
    messages: [{ role: "user", content: user }],
    maxOutputTokens: 1024,
    timeoutMs: 30_000,
  }, meter);
  for await (const event of stream) if (event.type === "text") text += event.delta;
  return text.trim();
}

/** Writes the conversation's title from its first message, unless the user has set one. */
export async function writeTitle(
  plan: { conversationId: string; utilityChain: ModelSpec[] },
  firstMessage: string,
  meter: Meter,
): Promise<string | null> {
  const raw = await complete(
    plan.utilityChain,
    "You write titles for chat conversations: at most 6 words, no quotes, no final period. Reply with the title only.",
    `Write the title of a conversation that starts with this message:\n\n${
      firstMessage.slice(0, 4000)
    }`,
    meter,
  );
  const title = raw.replace(/^["'\s]+|["'.\s]+$/g, "").slice(0, 120);
  if (!title) return null;
  const [saved] = await sql`update public.conversations set title = ${title}, title_generated = true
                            where id = ${plan.conversationId} and title is null returning id`;
  return saved ? title : null;
}

/** Summarizes earlier turns (extending a previous summary) so the history fits the context. */
export function summarize(
  plan: { utilityChain: ModelSpec[] },
  previous: string,
  turns: HistoryMessage[],
  meter: Meter,
): Promise<string> {
  const transcript = turns.map((t) => `${t.role.toUpperCase()}: ${t.content}`).join("\n\n");
  return complete(
    plan.utilityChain,
    "You summarize conversations so they can continue without the full transcript. Keep facts, decisions, names, numbers and open questions. Be concise.",
    `${previous ? `Summary so far:\n${previous}\n\n` : ""}Conversation to add to the summary:\n${
      transcript.slice(0, 200_000)
    }`,
    meter,
  );
}
