/**
 * Jest setup shared by every suite: the Node 20 polyfill the local runtime needs
 * and quiet AWS SDK / Powertools output.
 */
import '../local/polyfills';

process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
