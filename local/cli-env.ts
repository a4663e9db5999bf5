/**
 * Environment defaults of the local CLI, set before any AWS SDK module loads (import this right
 * after `./polyfills`): the SDK's Node 20 support notice is not useful for a local run.
 */
process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};
