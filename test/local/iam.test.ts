/** Local IAM for DynamoDB (local/iam.ts): which actions a request needs, and wildcard matching of policies. */
import { dynamoRequirements, isAllowed } from '../../local/iam';

test('a transaction needs the per-item action on every table it names', () => {
  expect(
    dynamoRequirements('TransactWriteItems', {
      TransactItems: [
        { ConditionCheck: { TableName: 'Control' } },
        { Put: { TableName: 'Ledger' } },
        { Update: { TableName: 'Ledger' } },
        { Delete: { TableName: 'Cycles' } },
      ],
    }),
  ).toEqual([
    { action: 'ConditionCheckItem', table: 'Control' },
    { action: 'PutItem', table: 'Ledger' },
    { action: 'UpdateItem', table: 'Ledger' },
    { action: 'DeleteItem', table: 'Cycles' },
  ]);
  expect(dynamoRequirements('BatchWriteItem', { RequestItems: { A: [], B: [] } })).toEqual([
    { action: 'BatchWriteItem', table: 'A' },
    { action: 'BatchWriteItem', table: 'B' },
  ]);
  expect(dynamoRequirements('PutItem', { TableName: 'T' })).toEqual([{ action: 'PutItem', table: 'T' }]);
});

test('allow statements match actions and resources with wildcards; nothing else is allowed', () => {
  const policy = [
    {
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      resources: ['arn:aws:dynamodb:local:000000000000:table/Ledger', 'arn:aws:dynamodb:local:000000000000:table/Ledger/index/*'],
    },
  ];
  expect(isAllowed(policy, 'dynamodb:GetItem', 'arn:aws:dynamodb:local:000000000000:table/Ledger')).toBe(true);
  expect(isAllowed(policy, 'dynamodb:PutItem', 'arn:aws:dynamodb:local:000000000000:table/Ledger')).toBe(false);
  expect(isAllowed(policy, 'dynamodb:GetItem', 'arn:aws:dynamodb:local:000000000000:table/Control')).toBe(false);
  expect(isAllowed([{ actions: ['dynamodb:*'], resources: ['*'] }], 'dynamodb:DeleteItem', 'arn:x')).toBe(true);
});
