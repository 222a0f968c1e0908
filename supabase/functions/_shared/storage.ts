// Supabase Storage as the calling user (their JWT): bucket policies decide what they may read,
// write and remove, exactly as for a frontend using supabase-js.
import { createClient } from "@supabase/supabase-js";

export const userStorage = (authorization: string) =>
  createClient(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_ANON_KEY")!, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Authorization: authorization } },
  }).storage;

/**
 * Removes objects as the user and checks they are gone: Storage leaves out of its answer what it
 * did not remove (a policy's refusal is not an error), so a path missing from the answer that
 * still downloads is a failure. Returns what went wrong, or null when every path is gone.
 */
export async function removeObjects(
  authorization: string,
  bucket: string,
  paths: string[],
): Promise<string | null> {
  if (paths.length === 0) return null;
  const files = userStorage(authorization).from(bucket);
  const { data, error } = await files.remove(paths);
  if (error) return error.message;
  const removed = new Set((data ?? []).map((o) => o.name));
  for (const path of paths.filter((p) => !removed.has(p))) {
    const { error: gone } = await files.download(path);
    if (!gone) return `Storage did not remove ${path}`;
  }
  return null;
}

/**
 * One object's bytes read with the service role (no policy applies), streamed. Only for an
 * object a definer function has already chosen for the caller (private.shared_file): never for
 * a path a request named.
 */
export async function readObjectAsService(bucket: string, path: string): Promise<Response> {
  const name = path.split("/").map(encodeURIComponent).join("/");
  return await fetch(
    `${Deno.env.get("SUPABASE_URL")}/storage/v1/object/authenticated/${bucket}/${name}`,
    {
      headers: {
        authorization: serviceAuthorization(),
        apikey: Deno.env.get("SUPABASE_ANON_KEY")!,
      },
    },
  );
}

/**
 * The service role's Authorization header, for Storage calls made for no user (a share's
 * reader, a scheduled sweep) on objects the database chose. Never sent anywhere else.
 */
export const serviceAuthorization = () => `Bearer ${Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")}`;
