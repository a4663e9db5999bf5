/**
 * Jest setup shared by every suite: the Node 20 polyfill the local runtime needs
 * and quiet AWS SDK / Powertools output.
 */
import '../local/polyfills';

// The SDK warns once per process on Node < 22 (support ends January 2027); the README says so once instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// aws-cdk-lib's built-in CloudFormation validation (a WebAssembly rule engine) costs about 2.5 s per
// process and 0.7 s per template; test/infra/cloudformation-validation.test.ts runs it on the stacks, and
// `cdk synth` in .ci/run on the shipped app. Everywhere else the suite asserts on the template itself.
process.env.CDK_VALIDATION ??= 'false';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
