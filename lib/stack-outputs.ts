/**
 * Keys of the stack's CloudFormation outputs: the stack writes them (`lib/orchestrator-stack.ts`)
 * and the operator command reads them (`ops/aws-target.ts`). Kept free of CDK imports so the
 * operator command starts fast.
 */
export const OUTPUT_KEYS = [
  'StateMachineArn',
  'MasterFunctionName',
  'AgentStateTableName',
  'ControlTableName',
  'CyclesTableName',
  'LedgerTableName',
  'ScheduleNames',
  'AlertTopicArn',
  'DashboardName',
  'OperatorFunctionUrl',
] as const;

/** One output key. */
export type OutputKey = (typeof OUTPUT_KEYS)[number];
