// The reminders dispatcher run in a process of its own, for tests that kill it mid-send:
//   deno run -A tests/reminders/dispatch_child.ts <notification_log id>...
// It needs the functions' environment (the test stack's stack.env).
import { dispatch } from "../../supabase/functions/_shared/reminders/dispatch.ts";

console.log(JSON.stringify(await dispatch(Deno.args)));
Deno.exit(0);
