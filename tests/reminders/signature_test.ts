// X-Twilio-Signature: Twilio's documented example, and what must not validate.
import assert from "node:assert/strict";
import {
  signedString,
  twilioSignature,
  urlVariants,
  verifyTwilioSignature,
} from "../../supabase/functions/_shared/reminders/signature.ts";

// The worked example of Twilio's webhook security documentation.
const TOKEN = "12345";
const URL_ = "https://mycompany.com/myapp.php?foo=1&bar=2";
const PARAMS: [string, string][] = [
  ["CallSid", "CA1234567890ABCDE"],
  ["Caller", "+14158675310"],
  ["Digits", "1234"],
  ["From", "+14158675310"],
  ["To", "+18005551212"],
];
const EXPECTED = "GvWf1cFY/Q7PnoempGyD5oXAezc=";
const body = (params: [string, string][]) =>
  new TextEncoder().encode(new URLSearchParams(params).toString());

Deno.test("twilio signature: Twilio's documented example gives its documented signature", async () => {
  assert.equal(
    signedString(URL_, [...PARAMS].reverse()),
    URL_ + "CallSidCA1234567890ABCDECaller+14158675310Digits1234From+14158675310To+18005551212",
  );
  assert.equal(await twilioSignature(TOKEN, URL_, [...PARAMS].reverse()), EXPECTED);
  assert.equal(
    await verifyTwilioSignature({
      authToken: TOKEN,
      publicUrl: URL_,
      rawBody: body(PARAMS),
      signature: EXPECTED,
    }),
    true,
  );
});

Deno.test("twilio signature: a changed parameter, URL, token or a missing header fails", async () => {
  const check = (over: Partial<Parameters<typeof verifyTwilioSignature>[0]>) =>
    verifyTwilioSignature({
      authToken: TOKEN,
      publicUrl: URL_,
      rawBody: body(PARAMS),
      signature: EXPECTED,
      ...over,
    });
  assert.equal(
    await check({ rawBody: body([...PARAMS.slice(0, 2), ["Digits", "9"], ...PARAMS.slice(3)]) }),
    false,
  );
  assert.equal(await check({ rawBody: body([...PARAMS, ["Extra", ""]]) }), false);
  assert.equal(await check({ publicUrl: "https://mycompany.com/myapp.php?foo=1&bar=3" }), false);
  assert.equal(await check({ publicUrl: "http://mycompany.com/myapp.php?foo=1&bar=2" }), false);
  assert.equal(await check({ authToken: "12346" }), false);
  assert.equal(await check({ signature: null }), false);
  assert.equal(await check({ signature: "" }), false);
  assert.equal(await check({ signature: EXPECTED.toLowerCase() }), false);
});

Deno.test("twilio signature: the public URL is accepted with and without :443", async () => {
  assert.deepEqual(urlVariants("https://x.supabase.co/functions/v1/r?a=1"), [
    "https://x.supabase.co/functions/v1/r?a=1",
    "https://x.supabase.co:443/functions/v1/r?a=1",
  ]);
  assert.deepEqual(urlVariants("http://127.0.0.1:24321/functions/v1/r"), [
    "http://127.0.0.1:24321/functions/v1/r",
  ]);
  const withPort = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
  const signature = await twilioSignature(TOKEN, withPort, PARAMS);
  assert.equal(
    await verifyTwilioSignature({
      authToken: TOKEN,
      publicUrl: URL_,
      rawBody: body(PARAMS),
      signature,
    }),
    true,
  );
});
