// The conversation's message tree, read through PostgREST under RLS (supabase-js, typed with the
// SDK's generated Database types), for the branch switcher: a message's siblings, and the leaf
// to show when switching to one of them.
import type { Session } from "./session.ts";

interface Node {
  id: string;
  parent_id: string | null;
  created_at: string;
}

export interface Tree {
  siblings(id: string): string[];
  /** The newest leaf under `id` (following the newest child at every step). */
  leafOf(id: string): string;
}

export async function loadTree(session: Session, conversationId: string): Promise<Tree> {
  const { data, error } = await session.supabase.from("messages")
    .select("id, parent_id, created_at").eq("conversation_id", conversationId).order("created_at");
  if (error) throw error;
  const nodes: Node[] = data ?? [];
  const children = new Map<string | null, string[]>();
  for (const n of nodes) children.set(n.parent_id, [...(children.get(n.parent_id) ?? []), n.id]);
  const parentOf = new Map(nodes.map((n) => [n.id, n.parent_id]));
  return {
    siblings: (id) => children.get(parentOf.get(id) ?? null) ?? [id],
    leafOf(id) {
      let leaf = id;
      for (let next = children.get(leaf); next?.length; next = children.get(leaf)) leaf = next.at(-1)!;
      return leaf;
    },
  };
}
