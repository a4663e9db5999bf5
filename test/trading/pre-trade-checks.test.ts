/** Each pre-trade check with one passing and one failing order (pure functions, no I/O). */
import {
  PRE_TRADE_CHECKS,
  checkAgentOrderRate,
  checkCycleOrderRate,
  checkDuplicateOrder,
  checkHaltFlag,
  checkMaxDailyLoss,
  checkMaxDrawdown,
  checkMaxGrossExposure,
  checkMaxOrderNotional,
  checkMaxPosition,
  checkMinCash,
  checkNoShort,
  checkAgentMaxPosition,
  checkAgentMaxGrossExposure,
  checkPriceCollar,
  checkSafeMode,
  checkStaleData,
  runPreTradeChecks,
  type PreTradeContext,
} from '../../lambdas/shared/trading/pre-trade-checks';
import { testSettings } from './support';

// MSFT closed at 2.13 on 1991-01-14 (bar 9 of data/market/dowjones30-daily.csv); prices scaled x100 here for readable notionals.
const base: PreTradeContext = {
  order: { symbol: 'MSFT', side: 'BUY', qty: 100 },
  price: 213,
  prices: { MSFT: 213, KO: 969 },
  portfolio: { cash: 100_000, positions: { MSFT: { qty: 50, avgPrice: 200 }, KO: { qty: 20, avgPrice: 900 } } },
  limits: testSettings().limits,
  halted: false,
  mode: 'normal',
  dailyPnlFraction: 0,
  drawdownFraction: 0,
  agentOrdersThisCycle: 0,
  ordersThisCycle: 0,
  conflictingOrder: false,
};
const ctx = (o: Partial<PreTradeContext>): PreTradeContext => ({ ...base, ...o });

describe('pre-trade checks (SEC 15c3-5, FIA)', () => {
  it('the base order passes every check', () => {
    const out = runPreTradeChecks(base);
    expect(out.passed).toBe(true);
    expect(out.results.map((r) => r.check)).toEqual([...PRE_TRADE_CHECKS]);
  });

  it('long-only (noShort): a SELL beyond the agent book is rejected unless allowShort; judged on the agent book, not the account', () => {
    const holding = { cash: 0, positions: { KO: { qty: 5, avgPrice: 40 } } };
    expect(checkNoShort(ctx({ order: { symbol: 'KO', side: 'SELL', qty: 5 }, agentPortfolio: holding })).status).toBe('PASS');
    expect(checkNoShort(ctx({ order: { symbol: 'KO', side: 'SELL', qty: 6 }, agentPortfolio: holding }))).toMatchObject({
      status: 'REJECT',
      value: 6,
      limit: 5,
    });
    expect(checkNoShort(ctx({ order: { symbol: 'KO', side: 'SELL', qty: 6 }, agentPortfolio: holding, allowShort: true })).status).toBe('PASS');
    expect(
      checkNoShort(
        ctx({
          order: { symbol: 'KO', side: 'SELL', qty: 1 },
          agentPortfolio: { cash: 0, positions: {} },
          portfolio: { cash: 0, positions: { KO: { qty: 100, avgPrice: 1 } } },
        }),
      ).status,
    ).toBe('REJECT');
  });

  it("an agent's own budget: its position and its gross exposure, judged on its book; reducing orders pass", () => {
    const book = { cash: 0, positions: { KO: { qty: 100, avgPrice: 40 } } };
    const budget = { maxPositionUsd: 5_000, maxGrossExposureUsd: 6_000 };
    const o = (side: 'BUY' | 'SELL', qty: number) =>
      ctx({ order: { symbol: 'KO', side, qty }, price: 40, prices: { KO: 40 }, agentPortfolio: book, agentBudget: budget });
    expect(checkAgentMaxPosition(o('BUY', 25)).status).toBe('PASS'); // 125 x 40 = 5,000
    expect(checkAgentMaxPosition(o('BUY', 26))).toMatchObject({ status: 'REJECT', value: 5_040 });
    expect(checkAgentMaxPosition(o('SELL', 50)).status).toBe('PASS');
    expect(
      checkAgentMaxGrossExposure(
        ctx({ order: { symbol: 'GE', side: 'BUY', qty: 60 }, price: 40, prices: { KO: 40, GE: 40 }, agentPortfolio: book, agentBudget: budget }),
      ),
    ).toMatchObject({ status: 'REJECT', value: 6_400 });
    expect(checkAgentMaxPosition(ctx({ order: { symbol: 'KO', side: 'BUY', qty: 1e6 } })).status).toBe('PASS'); // no budget, no limit
  });

  it('price collar on market orders: the close against the previous close', () => {
    expect(checkPriceCollar(ctx({ order: { symbol: 'KO', side: 'BUY', qty: 1 }, price: 100, referencePrice: 96 })).status).toBe('PASS');
    expect(checkPriceCollar(ctx({ order: { symbol: 'KO', side: 'BUY', qty: 1 }, price: 100, referencePrice: 90 }))).toMatchObject({
      status: 'REJECT',
      detail: expect.stringMatching(/market order/),
    });
    expect(checkPriceCollar(ctx({ order: { symbol: 'KO', side: 'BUY', qty: 1 }, price: 100, referencePrice: undefined })).status).toBe('PASS');
  });

  it('halt flag', () => {
    expect(checkHaltFlag(base).status).toBe('PASS');
    const r = checkHaltFlag(ctx({ halted: true }));
    expect(r).toMatchObject({ check: 'haltFlag', status: 'REJECT' });
    expect(r.detail).toMatch(/halt flag/);
  });

  it('stale data: no price at the current bar', () => {
    expect(checkStaleData(base).status).toBe('PASS');
    expect(checkStaleData(ctx({ price: undefined })).status).toBe('REJECT');
    expect(checkStaleData(ctx({ price: Number.NaN })).status).toBe('REJECT');
  });

  it('duplicate order', () => {
    expect(checkDuplicateOrder(base).status).toBe('PASS');
    expect(checkDuplicateOrder(ctx({ conflictingOrder: true })).status).toBe('REJECT');
  });

  it('safe mode: only orders that reduce |position|', () => {
    const sell = { symbol: 'MSFT', side: 'SELL' as const, qty: 30 };
    expect(checkSafeMode(ctx({ mode: 'safe', order: sell })).status).toBe('PASS'); // 50 -> 20
    expect(checkSafeMode(ctx({ mode: 'safe' })).status).toBe('REJECT'); // 50 -> 150
    expect(checkSafeMode(ctx({ mode: 'safe', order: { ...sell, qty: 120 } })).status).toBe('REJECT'); // 50 -> -70 flips
  });

  it('price collar: |limit / last - 1| <= 5 %', () => {
    // 223 / 213 - 1 = 0.04695 passes; 224 / 213 - 1 = 0.05164 rejects
    expect(checkPriceCollar(ctx({ order: { ...base.order, limitPrice: 223 } })).status).toBe('PASS');
    const r = checkPriceCollar(ctx({ order: { ...base.order, limitPrice: 224 } }));
    expect(r.status).toBe('REJECT');
    expect(r.value).toBeCloseTo(0.0516431925, 9);
  });

  it('max order notional 25,000 USD', () => {
    // 117 x 213 = 24,921 passes; 118 x 213 = 25,134 rejects
    expect(checkMaxOrderNotional(ctx({ order: { ...base.order, qty: 117 } })).status).toBe('PASS');
    const r = checkMaxOrderNotional(ctx({ order: { ...base.order, qty: 118 } }));
    expect(r).toMatchObject({ status: 'REJECT', value: 25_134, limit: 25_000 });
  });

  it('max position per symbol 50,000 USD', () => {
    // (50 + 184) x 213 = 49,842 passes; (50 + 185) x 213 = 50,055 rejects
    expect(checkMaxPosition(ctx({ order: { ...base.order, qty: 184 } })).status).toBe('PASS');
    expect(checkMaxPosition(ctx({ order: { ...base.order, qty: 185 } }))).toMatchObject({ status: 'REJECT', value: 50_055 });
  });

  it('max gross exposure after the order: 0.8 x 200,000 = 160,000 USD (the REDUCE threshold)', () => {
    // gross now 50 x 213 + 20 x 969 = 10,650 + 19,380 = 30,030; +100 MSFT => 51,330 passes
    expect(checkMaxGrossExposure(base)).toMatchObject({ status: 'PASS', value: 51_330, limit: 160_000 });
    // holding 150 KO: 50 x 213 + 150 x 969 = 10,650 + 145,350 = 156,000; +100 MSFT => 177,300 rejects
    const heavy = { cash: 100_000, positions: { MSFT: { qty: 50, avgPrice: 200 }, KO: { qty: 150, avgPrice: 900 } } };
    expect(checkMaxGrossExposure(ctx({ portfolio: heavy }))).toMatchObject({ status: 'REJECT', value: 177_300 });
    // selling 100 KO from that book reduces: passes even though gross is above the cap
    expect(checkMaxGrossExposure(ctx({ portfolio: heavy, order: { symbol: 'KO', side: 'SELL', qty: 100 } })).status).toBe('PASS');
  });

  it('min cash after the order 10,000 USD', () => {
    // 100,000 - 100 x 213 = 78,700 passes; cash 30,000 - 21,300 = 8,700 rejects
    expect(checkMinCash(base)).toMatchObject({ status: 'PASS', value: 78_700 });
    expect(checkMinCash(ctx({ portfolio: { ...base.portfolio, cash: 30_000 } }))).toMatchObject({ status: 'REJECT', value: 8_700 });
  });

  it('max daily loss from the latest equity snapshot (reducing orders still pass)', () => {
    expect(checkMaxDailyLoss(ctx({ dailyPnlFraction: -0.029 })).status).toBe('PASS');
    expect(checkMaxDailyLoss(ctx({ dailyPnlFraction: -0.031 })).status).toBe('REJECT');
    expect(checkMaxDailyLoss(ctx({ dailyPnlFraction: -0.031, order: { symbol: 'MSFT', side: 'SELL', qty: 50 } })).status).toBe('PASS');
  });

  it('max drawdown from the latest equity snapshot', () => {
    expect(checkMaxDrawdown(ctx({ drawdownFraction: 0.1 })).status).toBe('PASS');
    expect(checkMaxDrawdown(ctx({ drawdownFraction: 0.12 })).status).toBe('REJECT');
  });

  it('order rate per agent per cycle (10) and per cycle (30)', () => {
    expect(checkAgentOrderRate(ctx({ agentOrdersThisCycle: 9 })).status).toBe('PASS');
    expect(checkAgentOrderRate(ctx({ agentOrdersThisCycle: 10 })).status).toBe('REJECT');
    expect(checkCycleOrderRate(ctx({ ordersThisCycle: 29 })).status).toBe('PASS');
    expect(checkCycleOrderRate(ctx({ ordersThisCycle: 30 })).status).toBe('REJECT');
  });

  it('runPreTradeChecks reports the first rejecting check', () => {
    const out = runPreTradeChecks(ctx({ halted: true, order: { ...base.order, qty: 1000 } }));
    expect(out.passed).toBe(false);
    expect(out.rejectedBy!.check).toBe('haltFlag');
    expect(out.results.filter((r) => r.status === 'REJECT').map((r) => r.check)).toEqual([
      'haltFlag',
      'maxOrderNotional',
      'maxPosition',
      'maxGrossExposure',
      'minCash',
    ]);
    expect(() => runPreTradeChecks(ctx({ order: { ...base.order, qty: 1.5 } }))).toThrow(RangeError);
  });
});
