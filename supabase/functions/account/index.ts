<<<<<<< HEAD
// The caller's account: profile (`GET|PATCH /account/me`) and the GDPR routes: `GET
// /account/export` (everything they own, as JSON) and `DELETE /account` (the auth user and
// everything they own). Export and delete find user-owned tables in the catalog (see
// private.user_owned_tables()), so tables added later are covered without a change here; the
// user's Storage files (any bucket) are listed in the export and removed before the account.
import { checkPlannerPreferences } from "../_shared/planner/types.ts";
import type { Context } from "hono";
import { createClient } from "@supabase/supabase-js";
import { z } from "zod";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { createApp } from "../_shared/app.ts";
import { ApiError } from "../_shared/http.ts";
import type { Operation } from "../_shared/openapi_legacy.ts";
import { budgetStatus, limitWrites } from "../_shared/limits.ts";
import { jsonBody, query } from "../_shared/validate.ts";
import { phoneOperations, phoneRoutes } from "./phone.ts";

const app = createApp<AuthedEnv>("account");
app.use("*", requireUser);
app.use("*", limitWrites());

type C = Context<AuthedEnv>;
// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;

const MAX_PREFERENCES_BYTES = 16_384;

/** An IANA zone name (Europe/Paris, America/Argentina/Buenos_Aires, UTC), as Intl knows it. */
export function isIanaTimeZone(tz: string): boolean {
  if (!/^[A-Za-z]+(?:[/_+-][A-Za-z0-9]+)*$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const UpdateMe = z.strictObject({
  display_name: z.string().trim().min(1).max(200).nullable().optional(),
  timezone: z.string().max(64).refine(
    isIanaTimeZone,
    "must be an IANA time zone, e.g. Europe/Paris",
  )
    .optional(),
  /** Replaces the stored preferences: any JSON object up to 16 KB. */
  preferences: z.record(z.string(), z.unknown()).refine(
    (p) => new TextEncoder().encode(JSON.stringify(p)).byteLength <= MAX_PREFERENCES_BYTES,
    `preferences are at most ${MAX_PREFERENCES_BYTES} bytes of JSON`,
  ).superRefine(checkPlannerPreferences).optional(),
}).refine((b) => Object.keys(b).length > 0, "Send at least one field to change");

/** The export takes no options (JSON only). */
const NoOptions = z.strictObject({});

const DeleteAccount = z.strictObject({
  confirm: z.literal("DELETE", { error: 'Send {"confirm": "DELETE"} to delete your account' }),
});

function profileJson(p: Row) {
  return {
    id: p.id,
    email: p.email,
    display_name: p.display_name,
    timezone: p.timezone,
    role: p.role,
    phone: p.phone,
    phone_verified: p.phone_verified,
    whatsapp_opted_in: p.whatsapp_opted_in_at !== null,
    preferences: p.preferences,
    monthly_budget_usd: p.monthly_budget_usd === null ? null : Number(p.monthly_budget_usd),
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}

const me = (c: C) => c.get("user");

async function myProfile(c: C) {
  // Filter on the caller explicitly: an admin's RLS lets them read every profile.
  const [row] = await asUser(
    me(c).claims,
    (tx) => tx`select * from public.profiles where id = auth.uid()`,
  );
  if (!row) throw new ApiError(404, "not_found", "No profile for this account");
  return row;
}

/** The caller's files in Storage, in any bucket, as their RLS lets them see them. */
function myFiles(c: C) {
  return asUser(
    me(c).claims,
    (tx) =>
      tx<{ bucket_id: string; name: string; size: number | null; created_at: Date }[]>`
      select bucket_id, name, (metadata ->> 'size')::bigint as size, created_at
      from storage.objects
      where owner_id = (select auth.uid())::text or owner = (select auth.uid())
      order by bucket_id, name`,
  );
}

/** Removes the caller's files through the Storage API, as the caller (bucket policies apply). */
async function removeMyFiles(c: C) {
  const files = await myFiles(c);
  if (files.length === 0) return;
  const storage = createClient(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_ANON_KEY")!, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Authorization: c.req.header("authorization")! } },
  }).storage;
  for (const bucket of new Set(files.map((f) => f.bucket_id))) {
    const names = files.filter((f) => f.bucket_id === bucket).map((f) => f.name);
    for (let i = 0; i < names.length; i += 1000) { // the API's limit per call
      const { error } = await storage.from(bucket).remove(names.slice(i, i + 1000));
      if (error) throw new ApiError(502, "storage_failed", `Files not removed: ${error.message}`);
    }
  }
  // A bucket without a delete policy for owners would leave files behind: refuse to go on.
  const left = await myFiles(c);
  if (left.length) {
    throw new ApiError(500, "storage_failed", `${left.length} file(s) could not be removed`);
  }
}

phoneRoutes(app);

app.get("/me", async (c) => {
  const [profile, budget] = await Promise.all([myProfile(c), budgetStatus(me(c).id)]);
  return c.json({ ...profileJson(profile), budget });
});

app.patch("/me", async (c) => {
  const body = await jsonBody(c, UpdateMe);
  const row = await asUser(me(c).claims, async (tx) => {
    if (body.timezone) {
      // The database must know the zone too: it groups by day in it.
      await tx`select now() at time zone ${body.timezone}`.catch(() => {
        throw new ApiError(400, "invalid_request", "Invalid body", [
          { path: "timezone", message: "unknown time zone", code: "custom" },
        ]);
      });
    }
    const [updated] = await tx`
      update public.profiles set
        display_name = ${body.display_name === undefined ? tx`display_name` : body.display_name},
        timezone = ${body.timezone ?? tx`timezone`},
        preferences = ${body.preferences ? tx.json(body.preferences as never) : tx`preferences`}
      where id = auth.uid() returning *`;
    return updated;
  });
  if (!row) throw new ApiError(404, "not_found", "No profile for this account");
  return c.json(profileJson(row));
});

app.get("/export", async (c) => {
  query(c, NoOptions);
  const user = me(c);
  const [[{ data }], files] = await Promise.all([
    asUser(user.claims, (tx) => tx`select private.export_account() as data`),
    myFiles(c),
  ]);
  const exportedAt = new Date().toISOString();
  c.header(
    "content-disposition",
    `attachment; filename="aide-export-${exportedAt.slice(0, 10)}.json"`,
  );
  return c.json({
    exported_at: exportedAt,
    user: { id: user.id, email: user.email },
    data,
    files, // Storage objects (metadata; download them with the Storage API)
  });
});

/** Deletes the caller's account and everything they own. Body: {"confirm": "DELETE"}. */
app.delete("/", async (c) => {
  const confirmationRequired = () =>
    new ApiError(400, "confirmation_required", 'Send {"confirm": "DELETE"} to delete your account');
  if (!c.req.header("content-type") && !Number(c.req.header("content-length") ?? 0)) {
    throw confirmationRequired();
  }
  await jsonBody(c, DeleteAccount).catch((e) => {
    throw e instanceof ApiError && e.code === "invalid_request" ? confirmationRequired() : e;
  });
  await removeMyFiles(c);
  await asUser(me(c).claims, (tx) => tx`select private.delete_account()`);
  return c.body(null, 204);
});

/** This function's operations, for the OpenAPI document (npm run openapi). */
export const operations: Operation[] = [
  {
    method: "GET",
    path: "/me",
    summary: "The caller's profile",
    auth: "user",
    responses: { 200: "The profile" },
  },
  {
    method: "PATCH",
    path: "/me",
    summary: "Change display name, time zone, preferences",
    auth: "user",
    body: UpdateMe,
    responses: { 200: "The profile", 400: "Invalid body", 429: "Rate limited" },
  },
  {
    method: "GET",
    path: "/export",
    summary: "Everything the caller owns, as JSON (GDPR)",
    auth: "user",
    query: NoOptions,
    responses: { 200: "The export", 400: "Bad query" },
  },
  {
    method: "DELETE",
    path: "/",
    summary: "Delete the account and everything it owns (GDPR)",
    auth: "user",
    body: DeleteAccount,
    responses: { 204: "Deleted", 400: "Missing confirmation" },
  },
  ...phoneOperations,
];

export { app };
=======
import { app } from "./app.ts";

>>>>>>> main
Deno.serve(app.fetch);
