// Phone verification through Twilio Verify, and WhatsApp consent. Our own limits (codes per
// hour, the wait before a resend, wrong guesses) are kept in public.phone_verifications by the
// definer functions of migration 20261201050000, on top of Verify's own (which answer 60203 and
// 60202); the code is Twilio's and never passes through our database.
import type { JwtClaims } from "../db.ts";
import { asUser } from "../db.ts";
import { ApiError } from "../http.ts";
import {
  checkVerification,
  startVerification,
  type TwilioConfig,
  twilioConfig,
  TwilioError,
} from "./twilio.ts";

function configured(): TwilioConfig {
  const cfg = twilioConfig();
  if (!cfg?.verifyServiceSid) {
    throw new ApiError(
      503,
      "not_configured",
      "Phone verification is not configured (TWILIO_VERIFY_SERVICE_SID)",
    );
  }
  return cfg;
}

const tooMany = (message: string, retryAfter: number) =>
  new ApiError(429, "rate_limited", message, { retry_after_seconds: retryAfter }, {
    "retry-after": String(retryAfter),
  });

/** Twilio's refusals, as answers to the user. */
function twilioFailure(e: unknown): never {
  if (!(e instanceof TwilioError)) throw e;
  if (e.code === 60200 || e.code === 21211 || e.code === 21614) {
    throw new ApiError(422, "invalid_phone", "Twilio cannot send a code to this number");
  }
  if (e.code === 60203) throw tooMany("Too many codes sent to this number; try again later", 600);
  if (e.code === 60202) throw tooMany("Too many wrong codes; ask for a new code", 600);
  if (e.code === 60410 || e.code === 60605) {
    throw new ApiError(
      422,
      "phone_blocked",
      "Twilio does not send codes to this number or country",
    );
  }
  throw new ApiError(502, "twilio_failed", "Twilio could not be reached; try again");
}

export interface VerificationState {
  phone: string;
  status: "pending" | "approved" | "expired";
  expires_at: Date;
  attempts_left: number;
}

interface VerificationRow {
  phone: string;
  status: VerificationState["status"];
  expires_at: Date;
  wrong_checks: number;
  max_checks: number;
}

/** The caller's verification in progress (as their RLS lets them read it), or undefined. */
async function current(claims: JwtClaims): Promise<VerificationRow | undefined> {
  const [row] = await asUser(claims, (tx) =>
    tx<VerificationRow[]>`
    select v.phone, v.status, v.expires_at, v.wrong_checks,
           coalesce((select (s.value #>> '{}')::int from public.app_settings s
                     where s.key = 'reminders.verify_max_checks'), 5) as max_checks
    from public.phone_verifications v where v.user_id = auth.uid()`);
  return row;
}

/** Sends a code to `phone` (E.164) for the signed-in user. */
export async function sendCode(claims: JwtClaims, phone: string): Promise<VerificationState> {
  const cfg = configured();
  const [profile] = await asUser(
    claims,
    (tx) =>
      tx<{ phone: string | null; phone_verified: boolean }[]>`
      select phone, phone_verified from public.profiles where id = auth.uid()`,
  );
  if (profile?.phone_verified && profile.phone === phone) {
    throw new ApiError(409, "already_verified", "This number is already verified");
  }
  const [{ wait }] = await asUser(
    claims,
    (tx) => tx`select private.reserve_verification_send(${phone}) as wait`,
  );
  if (wait > 0) throw tooMany(`Wait ${wait} s before asking for another code`, wait);
  try {
    await startVerification(cfg, phone);
  } catch (e) {
    await asUser(claims, (tx) => tx`select private.release_verification_send()`);
    twilioFailure(e);
  }
  return await state(claims);
}

async function state(claims: JwtClaims): Promise<VerificationState> {
  const v = (await current(claims))!;
  const attempts_left = Math.max(0, v.max_checks - v.wrong_checks);
  return { phone: v.phone, status: v.status, expires_at: v.expires_at, attempts_left };
}

/** Checks the code the user typed; on success the number becomes the profile's verified phone. */
export async function confirmCode(claims: JwtClaims, code: string) {
  const cfg = configured();
  const v = await current(claims);
  if (!v || v.status === "approved") {
    throw new ApiError(
      409,
      "no_pending_verification",
      "Ask for a code first (POST /account/phone/verify/send)",
    );
  }
  if (v.status === "expired" || v.expires_at <= new Date()) {
    await asUser(claims, (tx) => tx`select private.record_verification_check('expired')`);
    throw new ApiError(410, "code_expired", "The code has expired; ask for a new one");
  }
  if (v.wrong_checks >= v.max_checks) throw tooMany("Too many wrong codes; ask for a new code", 60);
  let status: string;
  try {
    status = (await checkVerification(cfg, v.phone, code)).status;
  } catch (e) {
    if (e instanceof TwilioError && e.code === 20404) {
      // Verify no longer knows it: expired, or approved/cancelled on Twilio's side.
      await asUser(claims, (tx) => tx`select private.record_verification_check('expired')`);
      throw new ApiError(410, "code_expired", "The code has expired; ask for a new one");
    }
    twilioFailure(e);
  }
  if (status !== "approved") {
    await asUser(claims, (tx) => tx`select private.record_verification_check('wrong')`);
    const after = await state(claims);
    throw new ApiError(422, "invalid_code", "The code is not right", {
      attempts_left: after.attempts_left,
    });
  }
  try {
    await asUser(claims, (tx) => tx`select private.record_verification_check('approved')`);
  } catch (e) {
    if ((e as { code?: string }).code === "23505") {
      throw new ApiError(409, "phone_in_use", "This number is verified on another account");
    }
    throw e;
  }
  return { phone: v.phone as string, phone_verified: true };
}

/** WhatsApp consent: requires a verified phone. Returns when the user opted in (null: out). */
export async function setWhatsAppOptIn(claims: JwtClaims, optIn: boolean): Promise<Date | null> {
  try {
    const [{ at }] = await asUser(
      claims,
      (tx) => tx`select private.set_whatsapp_opt_in(${optIn}) as at`,
    );
    return at;
  } catch (e) {
    if ((e as { message?: string }).message === "phone_not_verified") {
      throw new ApiError(
        409,
        "phone_not_verified",
        "Verify a phone number first (POST /account/phone/verify/send)",
      );
    }
    throw e;
  }
}
