/**
 * Identity from the orchestrator: by the synthesized IAM, no agent function can write any table.
 * Lists every agent role's DynamoDB actions and checks that only the order gateway writes the
 * Ledger and agents' outputs, so a rogue agent cannot forge fills, books, plans or other agents' outputs.
 */
import { asArray, policyStatements, resourcesOfType, synth, type Synthesized } from './template-helpers';

const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  'dynamodb:*',
];

let s: Synthesized;
beforeAll(() => {
  // A fleet with a shared entry and a user agent, besides the reference agents.
  s = synth((c) => ({ ...c, agents: [...c.agents, { name: 'rogue', entry: 'lambdas/agents/meanrev/handler.ts' }] }));
});

/** Logical id of a function's role -> DynamoDB actions its policies allow. */
function dynamoActionsByRole(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const { statement } of policyStatements(s.template)) {
    if (statement.Effect !== 'Allow') continue;
    const actions = asArray<string>(statement.Action).filter((a) => a.startsWith('dynamodb:'));
    if (!actions.length) continue;
    for (const [id, policy] of resourcesOfType(s.template, 'AWS::IAM::Policy')) {
      if (!policy.Properties.PolicyDocument.Statement.includes(statement)) continue;
      for (const role of asArray<any>(policy.Properties.Roles)) {
        const key = role.Ref as string;
        out.set(key, new Set([...(out.get(key) ?? []), ...actions]));
      }
      void id;
    }
  }
  return out;
}

const roleOf = (logicalId: string): string => s.template.Resources[logicalId].Properties.Role['Fn::GetAtt'][0];

test('every agent role: DynamoDB reads only, no write action on any table', () => {
  const actions = dynamoActionsByRole();
  const agents = s.stack.lambdaFunctions.filter((f) => f.role === 'agent');
  expect(agents.length).toBeGreaterThanOrEqual(5);
  for (const f of agents) {
    const granted = [...(actions.get(roleOf(f.logicalId)) ?? [])].sort();
    expect({ fn: f.entry, writes: granted.filter((a) => WRITE_ACTIONS.includes(a)) }).toEqual({ fn: f.entry, writes: [] });
    expect(granted).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
  }
});

test('the order gateway is the one writer of the Ledger among the cycle functions, and cannot delete', () => {
  const actions = dynamoActionsByRole();
  const gateway = s.stack.lambdaFunctions.find((f) => f.role === 'gateway')!;
  const granted = actions.get(roleOf(gateway.logicalId))!;
  expect([...granted].sort()).toEqual([
    'dynamodb:BatchGetItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
  ]);
  expect(granted.has('dynamodb:DeleteItem')).toBe(false);
});
