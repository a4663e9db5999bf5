/**
 * Environment defaults of the local and operator CLIs, set before any AWS SDK module loads (import
 * this first): the SDK's once-per-process notice that it will need Node 22 from January 2027 is not
 * useful on every run; the README says it once.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};
