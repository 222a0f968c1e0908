import { type Api, type BodyOf } from "./api.ts";
export declare function accountResource(api: Api): {
    /** Profile and budget status. */
    me: () => Promise<unknown>;
    /** Display name, time zone (IANA), preferences. */
    update: (body: BodyOf<"/account/me", "patch">) => Promise<unknown>;
    /** Everything the user owns, as JSON (GDPR export). */
    export: () => Promise<unknown>;
    /** Deletes the account and everything it owns. */
    delete: () => Promise<void>;
};
export declare function modelsResource(api: Api): {
    /** The models the user may pick, with their capabilities and prices. */
    list: () => Promise<unknown>;
};
export declare const healthCheck: (api: Api) => () => Promise<unknown>;
//# sourceMappingURL=account.d.ts.map