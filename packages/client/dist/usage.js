// Usage and cost (function `usage`) and the admin views and model management (`usage/admin`,
// `admin`); the admin calls answer 403 to anyone but admins.
import { data } from "./api.js";
export function usageResource(api) {
    return {
        /** Tokens, calls and cost for a period of UTC days, by day, model and step; budget state. */
        get: (query = {}) => data(api.GET("/usage", { params: { query } })),
        admin: {
            topUsers: (query = {}) => data(api.GET("/usage/admin/top-users", { params: { query } })),
            byModel: (query = {}) => data(api.GET("/usage/admin/by-model", { params: { query } })),
            users: (query = {}) => data(api.GET("/usage/admin/users", { params: { query } })),
        },
    };
}
export function adminResource(api) {
    return {
        models: {
            list: () => data(api.GET("/admin/models")),
            create: (body) => data(api.POST("/admin/models", { body })),
            update: (alias, body) => data(api.PATCH("/admin/models/{alias}", { params: { path: { alias } }, body })),
            prices: (alias) => data(api.GET("/admin/models/{alias}/prices", { params: { path: { alias } } })),
            addPrice: (alias, body) => data(api.POST("/admin/models/{alias}/prices", { params: { path: { alias } }, body })),
        },
    };
}
//# sourceMappingURL=usage.js.map