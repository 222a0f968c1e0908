// Who is signed in, and the clients made for them. With the local stack's Auth server (or a
// hosted project) users sign in with supabase-js and the SDK takes the token from its session;
// without one, an access token from `npm run token` works too (kept for this tab only).
import { type AideClient, createAideClient, type Database } from "@aide/client";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";

export interface AppConfig {
  supabaseUrl: string;
  anonKey: string;
}

export interface Session {
  email: string;
  aide: AideClient;
  /** supabase-js as the user (PostgREST under RLS, typed with the generated Database types). */
  supabase: SupabaseClient<Database>;
  signOut(): Promise<void>;
}

const TOKEN_KEY = "aide.accessToken";

export async function loadConfig(): Promise<AppConfig> {
  const res = await fetch("/config.json");
  const config = await res.json();
  if (!config.supabaseUrl) throw new Error("The Aide stack is not running: start it with npm start");
  return config;
}

const emailOf = (token: string) => {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).email ?? "";
  } catch {
    return "";
  }
};

/** A session from an access token (the local stack without Auth, scripts). */
export function tokenSession(config: AppConfig, token: string, onSignOut: () => void): Session {
  sessionStorage.setItem(TOKEN_KEY, token);
  const supabase = createClient<Database>(config.supabaseUrl, config.anonKey, {
    global: { headers: { Authorization: `Bearer ${token}` } },
    auth: { persistSession: false, autoRefreshToken: false },
  });
  return {
    email: emailOf(token),
    aide: createAideClient({ url: config.supabaseUrl, accessToken: token }),
    supabase,
    signOut: async () => {
      sessionStorage.removeItem(TOKEN_KEY);
      onSignOut();
    },
  };
}

/** A session from supabase-js sign-in: the SDK reads the (refreshed) token from it. */
export function authSession(supabase: SupabaseClient<Database>, config: AppConfig, email: string): Session {
  return {
    email,
    aide: createAideClient({ url: config.supabaseUrl, supabase }),
    supabase,
    signOut: async () => {
      await supabase.auth.signOut();
    },
  };
}

export const savedToken = () => sessionStorage.getItem(TOKEN_KEY);

let auth: SupabaseClient<Database> | undefined;
/** The one supabase-js client that holds the signed-in session (one per page, as supabase-js wants). */
export const authClient = (config: AppConfig) =>
  auth ??= createClient<Database>(config.supabaseUrl, config.anonKey);
