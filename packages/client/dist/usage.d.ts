import { type Api, type BodyOf, type QueryOf } from "./api.ts";
export declare function usageResource(api: Api): {
    /** Tokens, calls and cost for a period of UTC days, by day, model and step; budget state. */
    get: (query?: QueryOf<"/usage", "get">) => Promise<unknown>;
    admin: {
        topUsers: (query?: QueryOf<"/usage/admin/top-users", "get">) => Promise<unknown>;
        byModel: (query?: QueryOf<"/usage/admin/by-model", "get">) => Promise<unknown>;
        users: (query?: QueryOf<"/usage/admin/users", "get">) => Promise<unknown>;
    };
};
export declare function adminResource(api: Api): {
    models: {
        list: () => Promise<unknown>;
        create: (body: BodyOf<"/admin/models", "post">) => Promise<unknown>;
        update: (alias: string, body: BodyOf<"/admin/models/{alias}", "patch">) => Promise<unknown>;
        prices: (alias: string) => Promise<unknown>;
        addPrice: (alias: string, body: BodyOf<"/admin/models/{alias}/prices", "post">) => Promise<unknown>;
    };
};
//# sourceMappingURL=usage.d.ts.map