// Supabase Storage as the calling user (their JWT): bucket policies decide what they may read,
// write and remove, exactly as for a frontend using supabase-js.
import { createClient } from "@supabase/supabase-js";

export const userStorage = (authorization: string) =>
  createClient(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_ANON_KEY")!, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Authorization: authorization } },
  }).storage;
