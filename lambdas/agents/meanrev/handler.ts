// lambdas/agents/meanrev/handler.ts
import { defineAgent } from '../../shared/agent-kit/define-agent';

export const handler = defineAgent({
  name: 'meanrev',
  async run(ctx) {
    // The feed never shows a bar after this cycle's; gaps are null.
    const closes = ctx.feed.history('MSFT', 20).filter((p): p is number => p !== null);
    const mean = closes.reduce((a, b) => a + b, 0) / closes.length;
    const last = closes[closes.length - 1];
    if (last < mean * 0.97 && ctx.mode === 'normal') {
      // A proposal: the order gateway decides it after run() returns, through every pre-trade check, under this agent's name.
      await ctx.placeOrder({ symbol: 'MSFT', side: 'BUY', qty: 10 });
    }
    return { summary: `MSFT ${last} vs 20-bar mean ${mean.toFixed(2)}`, metrics: { deviationFraction: last / mean - 1 } };
  },
});
