// Web Push (function `push`): the VAPID key for PushManager.subscribe(), and this browser's
// subscription, so reminders reach it.
import { type Api, type BodyOf, data } from "./api.ts";

export function pushResource(api: Api) {
  return {
    /** The VAPID public key to pass to `PushManager.subscribe({ applicationServerKey })`. */
    config: () => data(api.GET("/push/config")),
    /** Saves a subscription: pass `PushSubscription.toJSON()`. */
    subscribe: (body: BodyOf<"/push/subscriptions", "post">) =>
      data(api.POST("/push/subscriptions", { body })),
    unsubscribe: async (id: string) => {
      await api.DELETE("/push/subscriptions/{id}", {
        params: { path: { id } },
      });
    },
  };
}
