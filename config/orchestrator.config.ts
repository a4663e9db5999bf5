/**
 * The default configuration: the specification's fleet behind the pre-trade risk check (R-DEFAULT-FLEET in docs/requirements.md).
 *
 * Edit this file to add or tune agents; `cdk synth`, `npm start` and the tests all
 * read it through `lib/config/schema.ts`, which validates it and fills defaults.
 * Field reference: README "Configuration reference".
 */
import type { OrchestratorConfigInput } from '../lib/config/schema';

const config: OrchestratorConfigInput = {
  stackName: 'AgentFleet',
  cycle: { cadenceMinutes: 15, timezone: 'UTC', maxWorkers: 4 },
  risk: {
    maxRetries: 3,
    backoffRate: 2,
    intervalSeconds: 2,
    timeoutSeconds: 60,
    // No leverage: gross exposure up to the starting equity (USD 1,000,000); REDUCE from 80 % of it.
    limits: { maxGrossExposureUsd: 1_000_000 },
  },
  agents: [
    {
      name: 'strategy',
      faultDomain: 'strategy',
      timeoutSeconds: 300,
      params: { fastWindow: 10, slowWindow: 30 },
    },
    {
      name: 'sentiment',
      faultDomain: 'data',
      timeoutSeconds: 300,
      params: { window: 50 },
    },
    {
      name: 'copybot',
      faultDomain: 'strategy',
      timeoutSeconds: 300,
      params: {
        targetWeights: ['MSFT:0.04', 'IBM:0.03', 'GE:0.03', 'KO:0.02', 'JNJ:0.02', 'XOM:0.03'],
        rebalanceThreshold: 0.01,
      },
    },
    {
      name: 'trading',
      faultDomain: 'strategy',
      dependsOn: ['strategy', 'sentiment'],
      timeoutSeconds: 300,
      params: { positionUsd: 20_000, minBreadth: 0.4 },
    },
  ],
};

export default config;
