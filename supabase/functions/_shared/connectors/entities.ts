// People across sources. A platform's description of a person becomes merge keys (its platform
// id, email, handle; never a bare name: two Danas are not one person) and private.merge_person
// joins every entity sharing a key into one, so Dana on Slack, in mail and on Telegram is one
// entity whose aliases list each identity.
import { jsonb, sql, type Tx } from "../db.ts";
import type { PersonRef } from "./types.ts";

export function mergeKeys(person: PersonRef): string[] {
  const keys: string[] = [];
  if (person.platformId) keys.push(person.platformId.toLowerCase());
  const email = person.email?.trim().toLowerCase();
  if (email && /^[^@\s]+@[^@\s]+$/.test(email)) keys.push(`email:${email}`);
  const handle = person.handle?.trim().replace(/^@/, "").toLowerCase();
  if (handle) keys.push(`handle:${handle}`);
  return keys;
}

/** The entity id for a person, created or merged; null when the platform told us nothing usable. */
export async function resolvePerson(
  db: Tx | typeof sql,
  userId: string,
  person: PersonRef | null | undefined,
): Promise<string | null> {
  if (!person) return null;
  const keys = mergeKeys(person);
  if (!keys.length) return null;
  const metadata: Record<string, unknown> = {};
  if (person.email) metadata.email = person.email.toLowerCase();
  if (person.handle) metadata.handle = person.handle.replace(/^@/, "");
  const [row] = await db<{ id: string }[]>`
    select private.merge_person(${userId}, ${person.name ?? person.email ?? person.handle ?? null},
                                ${keys}, ${jsonb(metadata)}) as id`;
  return row.id;
}

/** How a person reads in an event's indexed text: "Dana Scully <dana@acme.com>". */
export function describePerson(person: PersonRef | null | undefined): string | null {
  if (!person) return null;
  const name = person.name ?? (person.handle ? `@${person.handle}` : null);
  if (name && person.email) return `${name} <${person.email}>`;
  return name ?? person.email ?? null;
}
