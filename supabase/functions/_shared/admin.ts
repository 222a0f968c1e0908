// Admin-only work: a transaction as the caller that first checks private.is_admin() (403
// otherwise). RLS still applies inside; the admin policies are what let admins read and write.
import type { JwtClaims, Tx } from "./db.ts";
import { asUser } from "./db.ts";
import { ApiError } from "./http.ts";

export function asAdmin<T>(claims: JwtClaims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return asUser(claims, async (tx) => {
    const [{ admin }] = await tx<{ admin: boolean }[]>`select private.is_admin() as admin`;
    if (!admin) throw new ApiError(403, "forbidden", "Admins only");
    return await fn(tx);
  });
}
