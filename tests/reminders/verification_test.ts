// Phone verification through Twilio Verify (the fake), and WhatsApp consent, with their errors:
// bad numbers, wrong and expired codes, too many codes or guesses, a number verified elsewhere.
import assert from "node:assert/strict";
import { call, connect, FUNCTIONS_URL, newUser } from "../_support/stack.ts";
import { fake, newPhone, TWILIO } from "./helpers.ts";

const sql = connect();
const opts = { sanitizeResources: false, sanitizeOps: false };

const post = (token: string, path: string, body?: unknown) =>
  call(`${FUNCTIONS_URL}/account${path}`, {
    method: "POST",
    token,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const codeFor = async (phone: string) =>
  ((await fake(TWILIO, "GET", "/__fake/twilio/verifications")) as { to: string; code: string }[])
    .find((v) => v.to === phone)!.code;
const profile = async (id: string) =>
  (await sql`select phone, phone_verified, whatsapp_opted_in_at from public.profiles where id = ${id}`)[
    0
  ];
/** Lets the user ask for the next code at once (the resend wait is 30 s). */
const skipResendWait = (id: string) =>
  sql`update public.phone_verifications set last_sent_at = now() - interval '1 minute' where user_id = ${id}`;

Deno.test(
  "phone verification: code sent, a wrong code counted, the right one verifies; then WhatsApp opt-in",
  opts,
  async () => {
    const u = await newUser("phone");
    const phone = newPhone();
    assert.equal((await post(u.token, "/whatsapp/opt-in")).status, 409, "no verified phone yet");

    const sent = await post(u.token, "/phone/verify/send", { phone });
    assert.equal(sent.status, 202);
    assert.deepEqual([sent.body.phone, sent.body.status, sent.body.attempts_left], [
      phone,
      "pending",
      5,
    ]);
    const code = await codeFor(phone);

    const wrong = await post(u.token, "/phone/verify/confirm", {
      code: code === "123456" ? "654321" : "123456",
    });
    assert.equal(wrong.status, 422);
    assert.deepEqual([wrong.body.error.code, wrong.body.error.details.attempts_left], [
      "invalid_code",
      4,
    ]);
    assert.equal((await profile(u.userId)).phone_verified, false);

    const ok = await post(u.token, "/phone/verify/confirm", { code });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { phone, phone_verified: true });
    assert.deepEqual([(await profile(u.userId)).phone, (await profile(u.userId)).phone_verified], [
      phone,
      true,
    ]);
    assert.equal(
      (await post(u.token, "/phone/verify/confirm", { code })).status,
      409,
      "nothing pending any more",
    );
    assert.equal(
      (await post(u.token, "/phone/verify/send", { phone })).status,
      409,
      "already verified",
    );

    const optIn = await post(u.token, "/whatsapp/opt-in");
    assert.equal(optIn.status, 200);
    assert.equal(optIn.body.whatsapp_opted_in, true);
    const me = await call(`${FUNCTIONS_URL}/account/me`, { token: u.token });
    assert.deepEqual([me.body.phone, me.body.phone_verified, me.body.whatsapp_opted_in], [
      phone,
      true,
      true,
    ]);

    // A new number ends the consent once it is verified.
    const other = newPhone();
    await skipResendWait(u.userId);
    assert.equal((await post(u.token, "/phone/verify/send", { phone: other })).status, 202);
    assert.equal(
      (await profile(u.userId)).phone,
      phone,
      "the old number stays until the new one is verified",
    );
    assert.equal(
      (await post(u.token, "/phone/verify/confirm", { code: await codeFor(other) })).status,
      200,
    );
    const after = await profile(u.userId);
    assert.deepEqual([after.phone, after.whatsapp_opted_in_at], [other, null]);

    const out = await call(`${FUNCTIONS_URL}/account/whatsapp/opt-in`, {
      method: "DELETE",
      token: u.token,
    });
    assert.deepEqual([out.status, out.body.whatsapp_opted_in], [200, false]);
  },
);

Deno.test(
  "phone verification: bad input is 400 and writes nothing; Twilio's refusal is 422",
  opts,
  async () => {
    const u = await newUser("phone");
    for (
      const body of [{ phone: "0612345678" }, { phone: "+0123" }, { phone: 33612345678 }, {}, {
        phone: "+33612345678",
        x: 1,
      }]
    ) {
      assert.equal(
        (await post(u.token, "/phone/verify/send", body)).status,
        400,
        JSON.stringify(body),
      );
    }
    for (const body of [{ code: "12a456" }, { code: "" }, {}]) {
      assert.equal(
        (await post(u.token, "/phone/verify/confirm", body)).status,
        400,
        JSON.stringify(body),
      );
    }
    const [{ n }] =
      await sql`select count(*)::int as n from public.phone_verifications where user_id = ${u.userId}`;
    assert.equal(n, 0);

    const phone = newPhone();
    await fake(TWILIO, "POST", "/__fake/twilio/script", {
      to: phone,
      kind: "verification",
      status: 400,
      code: 60200,
      message: "Invalid parameter `To`",
    });
    const refused = await post(u.token, "/phone/verify/send", { phone });
    assert.deepEqual([refused.status, refused.body.error.code], [422, "invalid_phone"]);
    const [v] =
      await sql`select sends, last_sent_at from public.phone_verifications where user_id = ${u.userId}`;
    assert.deepEqual([v.sends, v.last_sent_at], [0, null], "the refused send is not counted");
    assert.equal(
      (await post(u.token, "/phone/verify/send", { phone })).status,
      202,
      "and the user may try again at once",
    );
  },
);

Deno.test(
  "phone verification: an expired code is 410; too many guesses and too many codes are 429",
  opts,
  async () => {
    const u = await newUser("phone");
    const phone = newPhone();
    await post(u.token, "/phone/verify/send", { phone });
    await fake(TWILIO, "POST", "/__fake/twilio/verifications/expire", { to: phone });
    const expired = await post(u.token, "/phone/verify/confirm", { code: await codeFor(phone) });
    assert.deepEqual([expired.status, expired.body.error.code], [410, "code_expired"]);
    assert.equal((await profile(u.userId)).phone_verified, false);

    const again = await post(u.token, "/phone/verify/send", { phone });
    assert.deepEqual(
      [again.status, again.body.error.code],
      [429, "rate_limited"],
      "30 s before a new code",
    );
    assert.ok(Number(again.headers.get("retry-after")) > 0);
    await skipResendWait(u.userId);
    assert.equal((await post(u.token, "/phone/verify/send", { phone })).status, 202);
    const code = await codeFor(phone);
    const wrongCode = code === "111111" ? "222222" : "111111";
    for (let i = 0; i < 5; i++) {
      assert.equal(
        (await post(u.token, "/phone/verify/confirm", { code: wrongCode })).status,
        422,
      );
    }
    const blocked = await post(u.token, "/phone/verify/confirm", { code });
    assert.equal(blocked.status, 429, "even the right code, after five wrong ones");
    assert.equal((await profile(u.userId)).phone_verified, false);

    // Five codes an hour: two sent already, three more, then 429.
    for (let i = 0; i < 3; i++) {
      await skipResendWait(u.userId);
      assert.equal((await post(u.token, "/phone/verify/send", { phone: newPhone() })).status, 202);
    }
    await skipResendWait(u.userId);
    const limited = await post(u.token, "/phone/verify/send", { phone: newPhone() });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) > 60);
  },
);

Deno.test(
  "phone verification: a number verified on another account cannot be verified again",
  opts,
  async () => {
    const phone = newPhone();
    const [a, b] = [await newUser("phone"), await newUser("phone")];
    await post(a.token, "/phone/verify/send", { phone });
    await post(b.token, "/phone/verify/send", { phone });
    assert.equal(
      (await post(a.token, "/phone/verify/confirm", { code: await codeFor(phone) })).status,
      200,
    );
    // b asks for a fresh code for the same number and enters it.
    await skipResendWait(b.userId);
    await post(b.token, "/phone/verify/send", { phone });
    const taken = await post(b.token, "/phone/verify/confirm", { code: await codeFor(phone) });
    assert.deepEqual([taken.status, taken.body.error.code], [409, "phone_in_use"]);
    assert.equal((await profile(b.userId)).phone_verified, false);
  },
);
