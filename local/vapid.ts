// npm run vapid: prints a new VAPID key pair for Web Push, as lines for supabase/functions/.env
// (or `supabase secrets set`). Keep the private key secret; the public key goes to the frontend
// (PushManager.subscribe's applicationServerKey). Changing keys invalidates every subscription.
import { generateVapidKeys } from "../supabase/functions/_shared/reminders/push.ts";

const { publicKey, privateKey } = generateVapidKeys();
console.log(
  `VAPID_PUBLIC_KEY=${publicKey}\nVAPID_PRIVATE_KEY=${privateKey}\nVAPID_SUBJECT=mailto:you@example.com`,
);
