// What the SDK's tests share: a client for a new user of the running test stack.
import { env, newUser } from "../_support/stack.ts";
import { createAideClient } from "../../packages/client/src/index.ts";

export async function userClient(prefix = "sdk") {
  const user = await newUser(prefix);
  const aide = createAideClient({
    url: env.SUPABASE_URL,
    accessToken: user.token,
  });
  return { ...user, aide };
}

/** A `[[fake ...]]` directive: the fake provider answers with this text, this fast. */
export const scripted = (text: string, tokensPerSec?: number) =>
  `[[fake ${
    JSON.stringify({
      text,
      ...(tokensPerSec ? { tokens_per_sec: tokensPerSec } : {}),
    })
  }]]`;
