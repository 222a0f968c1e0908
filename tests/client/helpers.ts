// What the SDK's tests share: a client for a new user of the running test stack.
import { env, newUser } from "../_support/stack.ts";
import { AideError, createAideClient } from "../../packages/client/src/index.ts";

export async function userClient(prefix = "sdk") {
  const user = await newUser(prefix);
  const aide = createAideClient({
    url: env.SUPABASE_URL,
    accessToken: user.token,
  });
  return { ...user, aide };
}

/** The AideError a call fails with (fails the test if it succeeds or throws something else). */
export async function failure(call: Promise<unknown>): Promise<AideError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof AideError) return error;
    throw error;
  }
  throw new Error("expected the call to fail with an AideError");
}
