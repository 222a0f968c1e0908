// The caller's own account (function `account`), the models they may pick (`models`), and
// `health`.
import { data } from "./api.js";
export function accountResource(api) {
    return {
        /** Profile and budget status. */
        me: () => data(api.GET("/account/me")),
        /** Display name, time zone (IANA), preferences. */
        update: (body) => data(api.PATCH("/account/me", { body })),
        /** Everything the user owns, as JSON (GDPR export). */
        export: () => data(api.GET("/account/export")),
        /** Deletes the account and everything it owns. */
        delete: async () => {
            await api.DELETE("/account", { body: { confirm: "DELETE" } });
        },
    };
}
export function modelsResource(api) {
    return {
        /** The models the user may pick, with their capabilities and prices. */
        list: () => data(api.GET("/models")),
    };
}
export const healthCheck = (api) => () => data(api.GET("/health"));
//# sourceMappingURL=account.js.map