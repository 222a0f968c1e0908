/** Aide's release, reported by the health function. Bump with package.json. */
export const AIDE_VERSION = "0.1.0";
