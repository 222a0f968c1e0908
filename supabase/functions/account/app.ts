// The caller's account: profile (`GET|PATCH /account/me`) and the GDPR routes: `GET
// /account/export` (everything they own, as JSON) and `DELETE /account` (the auth user and
// everything they own). Export and delete find user-owned tables in the catalog (see
// private.user_owned_tables()), so tables added later are covered without a change here; the
// user's Storage files (any bucket) are listed in the export and removed before the account.
import { checkPlannerPreferences } from "../_shared/planner/types.ts";
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { ApiError } from "../_shared/http.ts";
import { Budget, budgetStatus, limitWrites } from "../_shared/limits.ts";
import { json, jsonBody, route } from "../_shared/openapi.ts";
import { userStorage } from "../_shared/storage.ts";
import { IanaTimeZone } from "../_shared/timezone.ts";
import { phoneRoutes } from "./phone.ts";

export const app = createApp<AuthedEnv>("account");
app.use("*", requireUser);
app.use("*", limitWrites());

type C = Context<AuthedEnv>;

const MAX_PREFERENCES_BYTES = 16_384;

const UpdateMe = z.strictObject({
  display_name: z.string().trim().min(1).max(200).nullable().optional(),
  timezone: IanaTimeZone.optional(),
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

interface ProfileRow {
  id: string;
  email: string | null;
  display_name: string | null;
  timezone: string;
  role: "user" | "admin";
  phone: string | null;
  phone_verified: boolean;
  whatsapp_opted_in_at: Date | null;
  preferences: Record<string, unknown>;
  monthly_budget_usd: string | null;
  created_at: Date;
  updated_at: Date;
}

const Profile = z.object({
  id: z.uuid(),
  email: z.string().nullable(),
  display_name: z.string().nullable(),
  timezone: z.string(),
  role: z.enum(["user", "admin"]),
  phone: z.string().nullable(),
  phone_verified: z.boolean(),
  whatsapp_opted_in: z.boolean(),
  preferences: z.record(z.string(), z.unknown()),
  monthly_budget_usd: z.number().nullable(),
  created_at: z.iso.datetime({ offset: true }),
  updated_at: z.iso.datetime({ offset: true }),
}).openapi("Profile");

const StoredFile = z.object({
  bucket_id: z.string(),
  name: z.string(),
  size: z.number().int().nullable(),
  created_at: z.iso.datetime({ offset: true }),
});

const Export = z.object({
  exported_at: z.iso.datetime({ offset: true }),
  user: z.object({ id: z.uuid(), email: z.string().nullable() }),
  /** Every row the user owns, by table. */
  data: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
  /** Storage objects (metadata; download them with the Storage API). */
  files: z.array(StoredFile),
}).openapi("AccountExport");

function profileJson(p: ProfileRow) {
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
    (tx) => tx<ProfileRow[]>`select * from public.profiles where id = auth.uid()`,
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
  const storage = userStorage(c.req.header("authorization")!);
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

const Me = Profile.extend({ budget: Budget }).openapi("Me");

app.openapi(
  route({
    method: "get",
    path: "/me",
    summary: "The caller's profile",
    auth: "user",
    responses: { 200: json(Me, "The profile") },
    errors: { 404: "No profile" },
  }),
  async (c) => {
    const [profile, budget] = await Promise.all([myProfile(c), budgetStatus(me(c).id)]);
    return c.json({ ...profileJson(profile), budget }, 200);
  },
);

app.openapi(
  route({
    method: "patch",
    path: "/me",
    summary: "Change display name, time zone, preferences",
    auth: "user",
    request: { body: jsonBody(UpdateMe) },
    responses: { 200: json(Profile, "The profile") },
    errors: {
      404: "No profile",
      429: "Rate limited",
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const row = await asUser(me(c).claims, async (tx) => {
      if (body.timezone) {
        // The database must know the zone too: it groups by day in it.
        await tx`select now() at time zone ${body.timezone}`.catch(() => {
          throw new ApiError(400, "invalid_request", "Invalid body", [
            { path: "timezone", message: "unknown time zone", code: "custom" },
          ]);
        });
      }
      const [updated] = await tx<ProfileRow[]>`
      update public.profiles set
        display_name = ${body.display_name === undefined ? tx`display_name` : body.display_name},
        timezone = ${body.timezone ?? tx`timezone`},
        preferences = ${body.preferences ? tx.json(body.preferences as never) : tx`preferences`}
      where id = auth.uid() returning *`;
      return updated;
    });
    if (!row) throw new ApiError(404, "not_found", "No profile for this account");
    return c.json(profileJson(row), 200);
  },
);

app.openapi(
  route({
    method: "get",
    path: "/export",
    summary: "Everything the caller owns, as JSON (GDPR)",
    auth: "user",
    request: { query: NoOptions },
    responses: { 200: json(Export, "The export") },
    errors: { 400: "Bad query" },
  }),
  async (c) => {
    const user = me(c);
    const [[{ data }], files] = await Promise.all([
      asUser(
        user.claims,
        (tx) =>
          tx<{ data: z.infer<typeof Export>["data"] }[]>`select private.export_account() as data`,
      ),
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
      files,
    }, 200);
  },
);

/** Deletes the caller's account and everything they own. Body: {"confirm": "DELETE"}. */
const confirmationRequired = () =>
  new ApiError(400, "confirmation_required", 'Send {"confirm": "DELETE"} to delete your account');

app.openapi(
  route({
    method: "delete",
    path: "/",
    summary: "Delete the account and everything it owns (GDPR)",
    auth: "user",
    request: { body: jsonBody(DeleteAccount, { optional: true }) },
    responses: { 204: { description: "Deleted" } },
    errors: {
      400: "Missing confirmation (confirmation_required)",
      502: "Storage did not remove the files",
    },
  }),
  async (c) => {
    if (c.req.valid("json").confirm !== "DELETE") throw confirmationRequired();
    await removeMyFiles(c);
    await asUser(me(c).claims, (tx) => tx`select private.delete_account()`);
    return c.body(null, 204);
  },
  (result) => {
    if (!result.success) throw confirmationRequired();
  },
);
