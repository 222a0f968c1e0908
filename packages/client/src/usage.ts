// Usage and cost (function `usage`) and the admin views and model management (`usage/admin`,
// `admin`); the admin calls answer 403 to anyone but admins.
import { type Api, type BodyOf, data, type QueryOf } from "./api.ts";

export function usageResource(api: Api) {
  return {
    /** Tokens, calls and cost for a period of UTC days, by day, model and step; budget state. */
    get: (query: QueryOf<"/usage", "get"> = {}) =>
      data(api.GET("/usage", { params: { query } })),
    admin: {
      topUsers: (query: QueryOf<"/usage/admin/top-users", "get"> = {}) =>
        data(api.GET("/usage/admin/top-users", { params: { query } })),
      byModel: (query: QueryOf<"/usage/admin/by-model", "get"> = {}) =>
        data(api.GET("/usage/admin/by-model", { params: { query } })),
      users: (query: QueryOf<"/usage/admin/users", "get"> = {}) =>
        data(api.GET("/usage/admin/users", { params: { query } })),
      /** Reply ratings by model and day, week or month. */
      feedback: (query: QueryOf<"/usage/admin/feedback", "get"> = {}) =>
        data(api.GET("/usage/admin/feedback", { params: { query } })),
    },
  };
}

export function adminResource(api: Api) {
  return {
    models: {
      list: () => data(api.GET("/admin/models")),
      create: (body: BodyOf<"/admin/models", "post">) =>
        data(api.POST("/admin/models", { body })),
      update: (alias: string, body: BodyOf<"/admin/models/{alias}", "patch">) =>
        data(
          api.PATCH("/admin/models/{alias}", {
            params: { path: { alias } },
            body,
          }),
        ),
      prices: (alias: string) =>
        data(
          api.GET("/admin/models/{alias}/prices", {
            params: { path: { alias } },
          }),
        ),
      addPrice: (
        alias: string,
        body: BodyOf<"/admin/models/{alias}/prices", "post">,
      ) =>
        data(
          api.POST("/admin/models/{alias}/prices", {
            params: { path: { alias } },
            body,
          }),
        ),
    },
  };
}
