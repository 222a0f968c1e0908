// The token a push notification carries so the service worker can acknowledge it without the
// user's session: an HMAC of the send's id with the Vault secret aide_webhook_secret.
import { constantTimeEqual, hmacSha256Hex, vaultSecret } from "../secrets.ts";

async function key(): Promise<string> {
  const secret = await vaultSecret("aide_webhook_secret");
  if (!secret) throw new Error("the Vault secret aide_webhook_secret is missing");
  return secret;
}

export async function signAck(dispatchId: string): Promise<string> {
  return await hmacSha256Hex(await key(), new TextEncoder().encode(`reminder-ack:${dispatchId}`));
}

export async function verifyAck(dispatchId: string, token: string): Promise<boolean> {
  return await constantTimeEqual(await signAck(dispatchId), token);
}
