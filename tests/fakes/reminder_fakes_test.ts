// The fake Twilio and push service against Aide's own clients (_shared/reminders), in-process:
// what a browser would decrypt, VAPID refused when wrong, scripted 410s, Twilio's error codes,
// Verify's limits, and callbacks signed so that Aide's verifier accepts them.
import assert from "node:assert/strict";
import { startFakes } from "../../local/fakes/server.ts";
import {
  generateVapidKeys,
  sendPush,
  type VapidConfig,
} from "../../supabase/functions/_shared/reminders/push.ts";
import {
  checkVerification,
  createCall,
  sendWhatsApp,
  startVerification,
  type TwilioConfig,
  TwilioError,
} from "../../supabase/functions/_shared/reminders/twilio.ts";
import { verifyTwilioSignature } from "../../supabase/functions/_shared/reminders/signature.ts";
import { control } from "./helpers.ts";

const ACCOUNT = {
  accountSid: "AC" + "1".repeat(32),
  authToken: "f".repeat(32),
  verifyServiceSid: "VA" + "2".repeat(32),
};

/** A receiver for Twilio's callbacks that records each one and whether its signature held. */
function receiver() {
  const seen: { path: string; params: Record<string, string>; signed: boolean }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const raw = new Uint8Array(await req.arrayBuffer());
    const url = new URL(req.url);
    const signed = await verifyTwilioSignature({
      authToken: ACCOUNT.authToken,
      publicUrl: url.href,
      rawBody: raw,
      signature: req.headers.get("x-twilio-signature"),
    });
    seen.push({
      path: url.pathname,
      params: Object.fromEntries(new URLSearchParams(new TextDecoder().decode(raw))),
      signed,
    });
    if (url.pathname === "/voice") {
      return new Response("<Response><Say>Thanks</Say><Hangup/></Response>", {
        headers: { "content-type": "text/xml" },
      });
    }
    return new Response("<Response/>", { headers: { "content-type": "text/xml" } });
  });
  return { seen, url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

async function withFakes(
  fn: (
    f: {
      twilio: TwilioConfig;
      vapid: VapidConfig;
      pushUrl: string;
      twilioUrl: string;
      rx: ReturnType<typeof receiver>;
    },
  ) => Promise<void>,
) {
  const rx = receiver();
  const fakes = await startFakes({
    twilio: {
      port: 0,
      config: {
        ...ACCOUNT,
        whatsappFrom: "whatsapp:+14155238886",
        voiceFrom: "+15005550006",
        inboundUrl: `${rx.url}/whatsapp`,
      },
    },
    pushPort: 0,
  });
  const twilio: TwilioConfig = {
    ...ACCOUNT,
    apiUrl: fakes.twilioUrl!,
    verifyUrl: fakes.twilioUrl!,
    whatsappFrom: "whatsapp:+14155238886",
    whatsappContentSid: "HX" + "3".repeat(32),
    voiceFrom: "+15005550006",
  };
  const vapid = { ...generateVapidKeys(), subject: "mailto:test@example.com" };
  try {
    await fn({ twilio, vapid, pushUrl: fakes.pushUrl!, twilioUrl: fakes.twilioUrl!, rx });
  } finally {
    await fakes.close();
    await rx.close();
  }
}

const idle = async (twilioUrl: string) => {
  for (
    let i = 0;
    i < 100 && (await control(twilioUrl, "GET", "/__fake/twilio/idle")).pending > 0;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
};

Deno.test("push fake: decrypts what web-push sent, refuses a wrong VAPID key, answers scripted 410s", async () => {
  await withFakes(async ({ vapid, pushUrl }) => {
    const sub = await control(pushUrl, "POST", "/__fake/push/subscriptions");
    const target = { endpoint: sub.endpoint, p256dh: sub.keys.p256dh, auth: sub.keys.auth };
    const sent = await sendPush(vapid, target, { title: "Run", body: "in 10 minutes" }, {
      ttlSeconds: 600,
    });
    assert.equal(sent.status, "sent");
    const [message] = await control(pushUrl, "GET", "/__fake/push/messages");
    assert.deepEqual(JSON.parse(message.payload), { title: "Run", body: "in 10 minutes" });
    assert.equal(message.ttl, 600);
    assert.equal(message.urgency, "high");

    // A JWT signed with another key than the one in k= is refused.
    const other = generateVapidKeys();
    const forged = await sendPush({ ...vapid, privateKey: other.privateKey }, target, { x: 1 }, {
      ttlSeconds: 60,
    });
    assert.equal(forged.status, "failed");
    assert.match((await control(pushUrl, "GET", "/__fake/push/messages"))[1].error, /signature/);

    await control(pushUrl, "POST", "/__fake/push/script", { endpoint: sub.endpoint, status: 410 });
    assert.deepEqual(await sendPush(vapid, target, { x: 1 }, { ttlSeconds: 60 }), {
      status: "gone",
      httpStatus: 410,
    });
    // Gone stays gone.
    assert.equal((await sendPush(vapid, target, { x: 1 }, { ttlSeconds: 60 })).status, "gone");
  });
});

Deno.test("twilio fake: WhatsApp template and free-form, with signed status callbacks (63016 outside the session)", async () => {
  await withFakes(async ({ twilio, twilioUrl, rx }) => {
    const to = "+33612345678";
    const template = await sendWhatsApp(twilio, {
      to,
      variables: { "1": "Run" },
      statusCallback: `${rx.url}/status?d=1`,
    });
    assert.match(template.sid, /^SM[0-9a-f]{32}$/);
    const text = await sendWhatsApp(twilio, {
      to,
      body: "Run now?",
      statusCallback: `${rx.url}/status?d=2`,
    });
    await idle(twilioUrl);
    const statuses = rx.seen.filter((s) => s.path === "/status");
    assert.ok(statuses.every((s) => s.signed), "every callback is signed for its URL");
    assert.deepEqual(
      statuses.filter((s) => s.params.MessageSid === template.sid).map((s) =>
        s.params.MessageStatus
      ),
      ["sent", "delivered"],
    );
    const failed = statuses.filter((s) => s.params.MessageSid === text.sid);
    assert.deepEqual(failed.map((s) => [s.params.MessageStatus, s.params.ErrorCode]), [[
      "failed",
      "63016",
    ]]);

    // After the user writes, free-form text is delivered.
    const inbound = await control(twilioUrl, "POST", "/__fake/twilio/inbound", {
      from: to,
      body: "hi",
    });
    assert.equal(inbound.status, 200);
    assert.equal(rx.seen.find((s) => s.path === "/whatsapp")?.signed, true);
    const later = await sendWhatsApp(twilio, {
      to,
      body: "Run now?",
      statusCallback: `${rx.url}/status?d=3`,
    });
    await idle(twilioUrl);
    assert.equal(
      rx.seen.filter((s) => s.params.MessageSid === later.sid).at(-1)?.params.MessageStatus,
      "delivered",
    );

    await assert.rejects(
      sendWhatsApp(twilio, { to: "12345", body: "x", statusCallback: `${rx.url}/status` }),
      (e: TwilioError) => e.status === 400 && e.code === 21211,
    );
    await assert.rejects(
      sendWhatsApp({ ...twilio, authToken: "0".repeat(32) }, {
        to,
        body: "x",
        statusCallback: `${rx.url}/status`,
      }),
      (e: TwilioError) => e.status === 401 && e.code === 20003,
    );
  });
});

Deno.test("twilio fake: a call plays the TwiML, presses the scripted key and posts the Gather action, signed", async () => {
  await withFakes(async ({ twilio, twilioUrl, rx }) => {
    const to = "+33698765432";
    await control(twilioUrl, "POST", "/__fake/twilio/script", { to, digits: ["2"] });
    const twiml =
      `<Response><Gather input="dtmf" numDigits="1" timeout="5" action="${rx.url}/voice?d=9" method="POST" actionOnEmptyResult="true"><Say>Press 1</Say></Gather></Response>`;
    const call = await createCall(twilio, { to, twiml, statusCallback: `${rx.url}/status?d=9` });
    await idle(twilioUrl);
    const voice = rx.seen.find((s) => s.path === "/voice")!;
    assert.equal(voice.signed, true);
    assert.equal(voice.params.Digits, "2");
    assert.equal(voice.params.CallSid, call.sid);
    const [record] = await control(twilioUrl, "GET", "/__fake/twilio/calls");
    assert.match(record.gathers[0].response, /Thanks/);
    assert.equal(
      rx.seen.find((s) => s.path === "/status" && s.params.CallSid === call.sid)?.params.CallStatus,
      "completed",
    );

    await control(twilioUrl, "POST", "/__fake/twilio/script", { to, answer: "no-answer" });
    const unanswered = await createCall(twilio, { to, twiml, statusCallback: `${rx.url}/status` });
    await idle(twilioUrl);
    assert.equal(
      rx.seen.find((s) => s.params.CallSid === unanswered.sid)?.params.CallStatus,
      "no-answer",
    );
  });
});

Deno.test("twilio fake: Verify sends a code, checks it, and enforces its limits", async () => {
  await withFakes(async ({ twilio, twilioUrl }) => {
    const to = "+442071838750";
    assert.equal((await startVerification(twilio, to)).status, "pending");
    const [v] = await control(twilioUrl, "GET", "/__fake/twilio/verifications");
    assert.match(v.code, /^\d{6}$/);
    assert.equal(
      (await checkVerification(twilio, to, "000000" === v.code ? "111111" : "000000")).status,
      "pending",
    );
    assert.equal((await checkVerification(twilio, to, v.code)).status, "approved");
    // Approved: nothing pending any more.
    await assert.rejects(
      checkVerification(twilio, to, v.code),
      (e: TwilioError) => e.status === 404 && e.code === 20404,
    );

    const other = "+442071838751";
    await startVerification(twilio, other);
    for (let i = 0; i < 5; i++) await checkVerification(twilio, other, "000001");
    await assert.rejects(
      checkVerification(twilio, other, "000001"),
      (e: TwilioError) => e.code === 60202,
    );
    for (let i = 0; i < 4; i++) await startVerification(twilio, other);
    await assert.rejects(
      startVerification(twilio, other),
      (e: TwilioError) => e.status === 429 && e.code === 60203,
    );
    await assert.rejects(startVerification(twilio, "0044"), (e: TwilioError) => e.code === 60200);
  });
});
