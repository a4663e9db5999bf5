/** ordersForTargets: target values (USD) to whole-share orders, sells first, capped. */
import { ordersForTargets } from '../../lambdas/shared/trading/targets';

const prices = { AA: 10, BB: 20, CC: 50, DD: 5 };

describe('ordersForTargets', () => {
  it('orders the difference in whole shares, sells before buys, each alphabetical; a target of 0 sells the whole position', () => {
    const orders = ordersForTargets({ AA: 1_000, BB: 0, CC: 1_020, DD: 0 }, { BB: { qty: 7, avgPrice: 18 }, CC: { qty: 30, avgPrice: 40 } }, prices, {
      mode: 'normal',
    });
    expect(orders).toEqual([
      { symbol: 'BB', side: 'SELL', qty: 7 },
      { symbol: 'CC', side: 'SELL', qty: 9 },
      { symbol: 'AA', side: 'BUY', qty: 100 },
    ]);
  });

  it('maxOrders keeps the first N (sells first), so an agent never proposes more than the per-cycle throttle admits', () => {
    const targets = { AA: 1_000, BB: 1_000, CC: 0, DD: 1_000 };
    const positions = { CC: { qty: 3, avgPrice: 50 } };
    expect(ordersForTargets(targets, positions, prices, { mode: 'normal', maxOrders: 2 })).toEqual([
      { symbol: 'CC', side: 'SELL', qty: 3 },
      { symbol: 'AA', side: 'BUY', qty: 100 },
    ]);
    expect(ordersForTargets(targets, positions, prices, { mode: 'normal' })).toHaveLength(4);
  });

  it('safe mode keeps only orders that reduce |position|; maxOrderNotionalUsd caps each order; no price, no order', () => {
    const positions = { AA: { qty: 50, avgPrice: 10 } };
    expect(ordersForTargets({ AA: 0, BB: 1_000 }, positions, prices, { mode: 'safe' })).toEqual([{ symbol: 'AA', side: 'SELL', qty: 50 }]);
    expect(ordersForTargets({ BB: 1_000 }, {}, prices, { mode: 'normal', maxOrderNotionalUsd: 200 })).toEqual([{ symbol: 'BB', side: 'BUY', qty: 10 }]);
    expect(ordersForTargets({ ZZ: 1_000 }, {}, prices, { mode: 'normal' })).toEqual([]);
  });
});
