// Background work that must outlive the response (Supabase's EdgeRuntime.waitUntil). Outside
// the edge runtime (unit tests) the promise simply runs on.
declare const EdgeRuntime: { waitUntil(promise: Promise<unknown>): void } | undefined;

export function runInBackground(promise: Promise<unknown>) {
  if (typeof EdgeRuntime !== "undefined") EdgeRuntime.waitUntil(promise);
}
