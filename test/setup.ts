/**
 * Jest setup shared by every suite: the Node 20 polyfill the local runtime needs
 * and quiet AWS SDK / Powertools output.
 */
import '../local/polyfills';

// The SDK warns once per process on Node < 22 (support ends January 2027); the README says so once instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
