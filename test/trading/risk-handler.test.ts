/** The risk Lambda handler on real market data and a real DynamoDB Local Ledger: verdicts, fail-closed data checks, the ledger identity, equity snapshots. */
import { DeleteCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createRiskHandler } from '../../lambdas/risk/handler';
import { riskAssessmentSchema, type RiskAssessment } from '../../lambdas/shared/contracts';
import { ENV } from '../../lambdas/shared/env';
import type { TradingSettings } from '../../lambdas/shared/settings';
import { tradingPortsFromEnv } from '../../lambdas/shared/trading/runtime';
import { ACCOUNT_KEY, BOOK_PK, FILL_PK, fillSk } from '../../lambdas/shared/trading/ledger';
import { loadMarketData } from '../../lambdas/shared/trading/market-data';
import { verifyRiskVerdict } from '../../lambdas/shared/trading/risk-assessment';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { DOW_FILE, MSFT_FILE, testSettings, writeTempCsv } from './support';

let db: TestDynamo;
/** The risk handler on the ports `reset` set up (settings and file of this test). */
const handler = (event: unknown) => createRiskHandler(tradingPortsFromEnv(process.env, db.doc))(event);
beforeAll(async () => {
  db = await startDynalite('risk');
  Object.assign(process.env, db.env);
});
afterAll(async () => {
  await db.stop();
});

async function reset(settings: TradingSettings, file = DOW_FILE, account?: Record<string, unknown>): Promise<void> {
  process.env[ENV.tradingSettings] = JSON.stringify(settings);
  process.env[ENV.marketDataFile] = file;
  const items = (await db.doc.send(new ScanCommand({ TableName: db.tables.Ledger }))).Items ?? [];
  for (const it of items) await db.doc.send(new DeleteCommand({ TableName: db.tables.Ledger, Key: { pk: it.pk, sk: it.sk } }));
  if (!account) return;
  // A ledger that is its own replay: one fill per opening position, at its average price, by one fixture agent.
  const positions = (account.positions ?? {}) as Record<string, { qty: number; avgPrice: number }>;
  const fills = Object.entries(positions).map(([symbol, p], i) => ({
    pk: FILL_PK,
    sk: fillSk(i + 1),
    fillSeq: i + 1,
    orderId: `opening#${symbol}`,
    cycleId: 'opening',
    agent: 'fixture',
    symbol,
    side: 'BUY',
    qty: p.qty,
    price: p.avgPrice,
    notionalUsd: p.qty * p.avgPrice,
    barIndex: 0,
    asOf: 'opening',
  }));
  for (const Item of fills) await db.doc.send(new PutCommand({ TableName: db.tables.Ledger, Item }));
  if (fills.length) {
    const cashFlowUsd = -fills.reduce((a, f) => a + f.notionalUsd, 0);
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.Ledger,
        Item: { pk: BOOK_PK, sk: 'fixture', agent: 'fixture', positions, cashFlowUsd, fills: fills.length, version: 1 },
      }),
    );
  }
  await db.doc.send(new PutCommand({ TableName: db.tables.Ledger, Item: { ...ACCOUNT_KEY, version: fills.length, fillSeq: fills.length, ...account } }));
}

const assess = async (cycleSeq: number, cycleId = `cycle-${cycleSeq}`): Promise<RiskAssessment> =>
  riskAssessmentSchema.parse(await handler({ cycleId, cycleSeq, mode: 'normal' }));

describe('risk handler', () => {
  it('OK for the fresh (flat) account: VaR 0, every limit listed, snapshot of the bar written once', async () => {
    await reset(testSettings());
    const a = await assess(1);
    expect(a.verdict).toBe('OK');
    expect(a.asOf).toBe(loadMarketData(DOW_FILE).timestamps[260]);
    expect(a.metrics).toMatchObject({ equityUsd: 1_000_000, grossExposureUsd: 0, varFraction: 0, barIndex: 260 });
    expect(a.checks.map((c) => c.name)).toEqual(['marketData', 'staleData', 'dailyLoss', 'drawdown', 'grossExposure', 'minCash', 'var', 'concentration']);
    await assess(1); // retried attempt of the same cycle
    const snaps = await db.doc.send(
      new QueryCommand({ TableName: db.tables.Ledger, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'EQUITY' } }),
    );
    expect(snaps.Items).toHaveLength(1);
    expect(snaps.Items![0]).toMatchObject({ sk: 'BAR#00000260', equityUsd: 1_000_000, peakEquityUsd: 1_000_000 });
  });

  it('HALT when a position loses more than maxDailyLossFraction in a day (IBM, 1992-12-15)', async () => {
    // IBM closed 15.62 on bar 495 (1992-12-14) and 13.95 on bar 496 (1992-12-15).
    // 3000 IBM + 100,000 cash: P&L = 3000 x (13.95 - 15.62) = -5,010; previous equity 100,000 + 46,860 = 146,860
    // => daily loss 5,010 / 146,860 = 3.4114 % > 3 %. Starting cash = 146,860 so the drawdown (3.41 %) stays below its limit.
    await reset(testSettings({ startBar: 496, startingCashUsd: 146_860 }), DOW_FILE, { cash: 100_000, positions: { IBM: { qty: 3000, avgPrice: 15.62 } } });
    const a = await assess(1);
    expect(a.verdict).toBe('HALT');
    const loss = a.checks.find((c) => c.name === 'dailyLoss')!;
    expect(loss.status).toBe('BREACH');
    expect(loss.value).toBeCloseTo(0.0341141223, 9);
    expect(a.checks.find((c) => c.name === 'drawdown')!.status).not.toBe('BREACH');
    expect(a.reasons.join('\n')).toMatch(/Daily loss 3\.41% exceeds the limit 3\.00% \(HALT\)/);
  });

  it("reports the agent's own figures from its book, stores them in the bar's snapshot and flags its daily-loss REDUCE", async () => {
    // The same IBM day, on a fleet whose limits do not halt: the fixture agent's book loses 5,010 USD today,
    // over its own budget 0.03 x 100,000 = 3,000 USD.
    const settings = testSettings(
      { startBar: 496, startingCashUsd: 146_860, budgets: { fixture: { allocationUsd: 100_000, maxDailyLossFraction: 0.03, maxGrossExposureUsd: 50_000 } } },
      { maxDailyLossFraction: 0.5, maxDrawdownFraction: 0.5, maxVarFraction: 0.9, maxConcentrationFraction: 1, maxGrossExposureUsd: 1e9 },
    );
    await reset(settings, DOW_FILE, { cash: 100_000, positions: { IBM: { qty: 3000, avgPrice: 15.62 } } });
    const a = await assess(1);
    expect(a.verdict).not.toBe('HALT');
    const f = a.agents!.fixture;
    expect(f.pnlTodayUsd).toBeCloseTo(-5_010, 6);
    expect(f.pnlUsd).toBeCloseTo(3000 * (13.95 - 15.62), 6);
    expect(f.grossExposureUsd).toBeCloseTo(41_850, 6);
    expect(f.budgetUsedFraction).toBeCloseTo(41_850 / 50_000, 9);
    expect(f).toMatchObject({ dailyLossLimitUsd: 3_000, reduceOnly: true, peakPnlUsd: 0 });
    const snap = await db.doc.send(
      new QueryCommand({ TableName: db.tables.Ledger, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'EQUITY' } }),
    );
    expect(snap.Items![0].agents.fixture).toMatchObject({ reduceOnly: true, dailyLossLimitUsd: 3_000 });
  });

  it('fails closed on a bar past the end of the file', async () => {
    await reset(testSettings({ startBar: 2528 }));
    expect((await assess(1)).verdict).toBe('OK'); // bar 2528 is the last one
    const a = await assess(2);
    expect(a.verdict).toBe('HALT');
    expect(a.reasons[0]).toMatch(/MarketDataExhausted/);
    expect(a.asOf).toMatch(/after 2001-01-02/);
  });

  it('fails closed on a missing price for a universe symbol at the current bar', async () => {
    const csv = ['date,AAA,BBB', '2024-01-01,10,20', '2024-01-02,11,21', '2024-01-03,12,'].join('\n');
    await reset(testSettings({ startBar: 1, varWindow: 2 }), writeTempCsv('gap.csv', csv));
    expect((await assess(1)).verdict).toBe('OK');
    const a = await assess(2);
    expect(a.verdict).toBe('HALT');
    expect(a.reasons[0]).toMatch(/BBB is 1 bars stale/);
    // tolerated when maxStaleBars allows one stale bar
    await reset(testSettings({ startBar: 1, varWindow: 2, maxStaleBars: 1 }), writeTempCsv('gap.csv', csv));
    expect((await assess(2)).verdict).toBe('OK');
  });

  it('fails closed on a non-positive or NaN price and on a held symbol missing from the data', async () => {
    const csv = ['date,AAA,BBB', '2024-01-01,10,20', '2024-01-02,0,NaN'].join('\n');
    await reset(testSettings({ startBar: 1, varWindow: 2 }), writeTempCsv('bad.csv', csv));
    const a = await assess(1);
    expect(a.verdict).toBe('HALT');
    expect(a.reasons).toHaveLength(2);
    await reset(testSettings({ universe: ['MSFT'] }), DOW_FILE, { cash: 999_999, positions: { ZZZ: { qty: 1, avgPrice: 1 } } });
    expect((await assess(1)).reasons[0]).toMatch(/ZZZ is not in the market data/);
  });

  it('fails closed on a ledger inconsistent with itself', async () => {
    await reset(testSettings(), DOW_FILE, { cash: -5, positions: {} });
    const a = await assess(1);
    expect(a.verdict).toBe('HALT');
    expect(a.reasons[0]).toMatch(/Ledger inconsistent: cash is negative/);
  });

  it('HALT with the figures when the account does not equal the replay of its fills (cash changed with no fill)', async () => {
    await reset(testSettings(), DOW_FILE, { cash: 994_000, positions: { KO: { qty: 100, avgPrice: 60 } } });
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.Ledger,
        Item: { ...ACCOUNT_KEY, version: 2, fillSeq: 1, cash: 50_000_000, positions: { KO: { qty: 100, avgPrice: 60 } } },
      }),
    );
    const a = await assess(1);
    expect(a.verdict).toBe('HALT');
    expect(a.reasons[0]).toBe('Ledger does not match its fills: cash is 50000000 stored vs 994000 replayed from 1 fills');
    expect(a.checks).toEqual([expect.objectContaining({ name: 'ledgerIdentity', status: 'BREACH', value: 1 })]);
  });

  it('HALT on a suspect bar: a x1000 print is bad data, not a price', async () => {
    const table = loadMarketData(DOW_FILE);
    const header = ['Date', ...table.symbols].join(',');
    const rows = table.timestamps.slice(0, 262).map((t, i) =>
      [
        t.slice(0, 10),
        ...table.symbols.map((sym) => {
          const p = table.prices[sym][i];
          return p === null ? '' : String(sym === 'KO' && i === 260 ? p * 1000 : p);
        }),
      ].join(','),
    );
    await reset(testSettings(), writeTempCsv('spike.csv', [header, ...rows].join('\n') + '\n'));
    const a = await assess(1);
    expect(a.verdict).toBe('HALT');
    expect(a.reasons.join('\n')).toMatch(/suspect price: KO moved \d+\.\d% in one bar \(17\.75 -> 17580; band 50%\)/);
  });

  it('works on the MSFT OHLCV file (one symbol, MSFT)', async () => {
    await reset(testSettings({ universe: ['MSFT'], startBar: 30, varWindow: 20 }), MSFT_FILE, {
      cash: 994_000,
      positions: { MSFT: { qty: 100, avgPrice: 60 } },
    });
    const a = await assess(1);
    expect(a.verdict).not.toBe('HALT');
    expect(a.metrics.grossExposureUsd).toBeCloseTo(100 * loadMarketData(MSFT_FILE).prices.MSFT[30]!, 6);
    expect(a.metrics.varFraction).toBeGreaterThan(0);
  });

  it('rejects a malformed input with RiskInputInvalid (Step Functions retries, then fails closed)', async () => {
    await expect(handler({ cycleId: 'x', cycleSeq: 0, mode: 'normal' })).rejects.toMatchObject({ name: 'RiskInputInvalid' });
  });
});

describe('a verdict must prove itself (verifyRiskVerdict)', () => {
  const expectFor = { cycleId: 'c-5', cycleSeq: 5, plannedAt: '2026-01-05T15:30:00.000Z', previous: { cycleSeq: 4, asOfMs: Date.parse('1992-01-14') } };
  const okFrom = async () => {
    await reset(testSettings());
    return assess(5, 'c-5');
  };
  it("accepts the reference gate's own OK for this cycle and reports its asOf", async () => {
    const a = await okFrom();
    const v = verifyRiskVerdict(a, { ...expectFor, previous: undefined });
    expect(v).toEqual({ accepted: true, assessment: a, asOfMs: Date.parse(a.asOf) });
  });
  it.each([
    ['a bare { verdict: "OK" }', { verdict: 'OK' }, /^Risk verdict refused: the result is not a RiskAssessment: cycleId: /],
    ["another cycle's id", { cycleId: 'c-4' }, /^Risk verdict refused: OK is for cycle "c-4", not this cycle "c-5"/],
    ['an asOf that is no time', { asOf: 'yesterday' }, /asOf "yesterday" is not a time/],
    ['an asOf older than the previous verdict', { asOf: '1991-01-02' }, /asOf 1991-01-02 is older than the verdict of cycle 4 .*stale or replayed/],
    ['an asOf after the plan', { asOf: '2027-01-01' }, /is after the cycle was planned/],
    [
      'a BREACH check under OK',
      { checks: [{ name: 'dailyLoss', value: 0.05, limit: 0.03, headroom: -0.02, unit: 'fraction', status: 'BREACH' }] },
      /OK contradicts dailyLoss in BREACH/,
    ],
    [
      'a REDUCE with a BREACH check',
      { verdict: 'REDUCE', checks: [{ name: 'var', value: 1, limit: 0.5, headroom: -0.5, unit: 'fraction', status: 'BREACH' }] },
      /REDUCE contradicts var in BREACH/,
    ],
  ])('refuses %s: HALT with the reason first', async (_what, patch, re) => {
    const a = await okFrom();
    const raw = 'verdict' in patch && Object.keys(patch).length === 1 && patch.verdict === 'OK' ? patch : { ...a, asOf: '1992-01-15', ...patch };
    const v = verifyRiskVerdict(raw, expectFor);
    expect(v.accepted).toBe(false);
    expect(v.assessment.verdict).toBe('HALT');
    expect(v.assessment.cycleId).toBe('c-5');
    expect(v.assessment.reasons[0]).toMatch(re);
    expect(riskAssessmentSchema.safeParse(v.assessment).success).toBe(true);
  });
  it('a HALT needs no proof: passed through, even malformed (made valid)', () => {
    const v = verifyRiskVerdict({ verdict: 'HALT', reasons: ['drawdown'] }, expectFor);
    expect(v.assessment).toMatchObject({ verdict: 'HALT', cycleId: 'c-5' });
    expect(v.assessment.reasons).toEqual([expect.stringMatching(/the HALT result is malformed/), 'drawdown']);
  });
});
