/**
 * batchGetConsistent (lambdas/shared/batch-get.ts) on DynamoDB Local: one call across tables,
 * absent items absent, and the unprocessed keys DynamoDB may return asked for again with backoff.
 * DynamoDB Local never leaves keys unprocessed, so those cases put a real client behind a wrapper
 * that holds back keys of the first calls, as a throttled table would.
 */
import { BatchGetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BATCH_GET_MAX_KEYS, batchGetConsistent } from '../../lambdas/shared/batch-get';
import { BatchGetIncomplete } from '../../lambdas/shared/errors';
import { startDynalite, type TestDynamo } from '../support/dynalite';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('batch-get');
  await db.doc.send(new PutCommand({ TableName: db.tables.Ledger, Item: { pk: 'A', sk: '1', v: 1 } }));
  await db.doc.send(new PutCommand({ TableName: db.tables.Ledger, Item: { pk: 'A', sk: '2', v: 2 } }));
  await db.doc.send(new PutCommand({ TableName: db.tables.Control, Item: { pk: 'control', halted: false } }));
});
afterAll(() => db.stop());

/** The real client, but the first `throttled` calls answer only their first key and return the rest as UnprocessedKeys. */
function throttling(throttled: number): { doc: DynamoDBDocumentClient; calls: number } {
  const state = {
    calls: 0,
    doc: {
      send: async (cmd: BatchGetCommand) => {
        state.calls++;
        if (state.calls > throttled) return db.doc.send(cmd);
        const request = cmd.input.RequestItems!;
        const [first, ...rest] = Object.entries(request).flatMap(([table, r]) => r.Keys!.map((key) => ({ table, key })));
        const served = await db.doc.send(new BatchGetCommand({ RequestItems: { [first.table]: { Keys: [first.key], ConsistentRead: true } } }));
        const unprocessed: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> = {};
        for (const { table, key } of rest) (unprocessed[table] ??= { Keys: [], ConsistentRead: true }).Keys.push(key);
        return { Responses: served.Responses, UnprocessedKeys: unprocessed };
      },
    } as unknown as DynamoDBDocumentClient,
  };
  return state;
}

describe('batchGetConsistent', () => {
  it('reads keys of two tables in one call; an absent item is absent; every table named is in the result', async () => {
    const got = await batchGetConsistent(db.doc, {
      [db.tables.Ledger]: [
        { pk: 'A', sk: '1' },
        { pk: 'A', sk: '2' },
        { pk: 'A', sk: 'none' },
      ],
      [db.tables.Control]: [{ pk: 'control' }],
      [db.tables.Cycles]: [],
    });
    expect(got[db.tables.Ledger].map((i) => i.v).sort()).toEqual([1, 2]);
    expect(got[db.tables.Control]).toEqual([{ pk: 'control', halted: false }]);
    expect(got[db.tables.Cycles]).toEqual([]);
  });

  it('asks again for unprocessed keys, waiting a doubling delay between rounds, until every key is read', async () => {
    const client = throttling(2);
    const slept: number[] = [];
    const got = await batchGetConsistent(
      client.doc,
      {
        [db.tables.Ledger]: [
          { pk: 'A', sk: '1' },
          { pk: 'A', sk: '2' },
        ],
        [db.tables.Control]: [{ pk: 'control' }],
      },
      { baseDelayMs: 10, sleep: async (ms) => void slept.push(ms) },
    );
    expect(client.calls).toBe(3);
    expect(slept).toEqual([10, 20]);
    expect(got[db.tables.Ledger]).toHaveLength(2);
    expect(got[db.tables.Control]).toHaveLength(1);
  });

  it('throws BatchGetIncomplete when keys stay unprocessed after every round, and RangeError past 100 keys', async () => {
    const client = throttling(100);
    await expect(
      batchGetConsistent(
        client.doc,
        {
          // Five keys, one served per round: two are still unprocessed after three rounds.
          [db.tables.Ledger]: ['1', '2', '3', '4', '5'].map((sk) => ({ pk: 'A', sk })),
        },
        { rounds: 3, sleep: async () => undefined },
      ),
    ).rejects.toThrow(new BatchGetIncomplete('BatchGetItem left unprocessed keys after 3 rounds'));
    expect(client.calls).toBe(3);
    const keys = Array.from({ length: BATCH_GET_MAX_KEYS + 1 }, (_, i) => ({ pk: 'A', sk: String(i) }));
    await expect(batchGetConsistent(db.doc, { [db.tables.Ledger]: keys })).rejects.toThrow(RangeError);
  });
});
