/**
 * The cycle plan's work items, kept in the Cycles table (`{ cycleId, sk: 'PLAN' }`) between
 * "Plan cycle" and "Record outcomes".
 *
 * Why: Step Functions limits a state's input and output to 256 KiB. The "Run phases" Map needs the
 * work items in the state, but once it has run, the state machine replaces them with the results
 * (`ResultPath: $.plan.phases`), so the state never carries both; "Record outcomes" reads the items
 * back from here to pair each result with its agent. That keeps the largest state at about one
 * result per agent instead of a work item plus a result per agent.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { cyclePlanSchema, type CyclePlan } from '../shared/contracts';
import { PlanNotFound, PlanTooLarge } from '../shared/errors';

/** Sort key of the plan item. */
export const PLAN_SK = 'PLAN';

/**
 * The plan is also "Plan cycle"'s output, which Step Functions caps at 256 KiB (a DynamoDB item
 * could hold 400 KB): over this, "Plan cycle" fails with {@link PlanTooLarge}, a clear message,
 * instead of the execution failing with States.DataLimitExceeded, which no Catch handles.
 */
export const MAX_PLAN_BYTES = 240 * 1024;

/**
 * Stores a plan (overwriting a retried "Plan cycle"'s plan for the same cycle).
 * @param retentionDays - TTL of the item, days (same as the cycle report).
 * @throws {PlanTooLarge} when the plan cannot fit one item.
 */
export async function savePlan(doc: DynamoDBDocumentClient, table: string, plan: CyclePlan, retentionDays: number, nowMs: number): Promise<void> {
  const bytes = Buffer.byteLength(JSON.stringify(plan));
  if (bytes > MAX_PLAN_BYTES)
    throw new PlanTooLarge(
      `The plan of cycle ${plan.cycleId} is ${(bytes / 1024).toFixed(0)} KiB, over the ${(MAX_PLAN_BYTES / 1024).toFixed(0)} KiB a state can carry (Step Functions payload quota 256 KiB): ` +
        'split the agents into groups (agents[].group: one schedule and one execution per group)',
    );
  await doc.send(
    new PutCommand({ TableName: table, Item: { cycleId: plan.cycleId, sk: PLAN_SK, plan, expiresAt: Math.floor(nowMs / 1000) + retentionDays * 86_400 } }),
  );
}

/**
 * Loads a stored plan (strongly consistent: it was written moments ago by "Plan cycle").
 * @throws {PlanNotFound} when there is none; an Error naming the field when it is malformed.
 */
export async function loadPlan(doc: DynamoDBDocumentClient, table: string, cycleId: string): Promise<CyclePlan> {
  const out = await doc.send(new GetCommand({ TableName: table, Key: { cycleId, sk: PLAN_SK }, ConsistentRead: true }));
  if (!out.Item) throw new PlanNotFound(`No stored plan for cycle ${cycleId}: "Plan cycle" did not store one, or it expired`);
  const parsed = cyclePlanSchema.safeParse(out.Item.plan);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Stored plan of cycle ${cycleId} is malformed at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
