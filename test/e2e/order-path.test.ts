/**
 * The order path end to end on the local runtime (real ASL, real handlers, DynamoDB Local behind
 * the local IAM proxy): a rogue agent's forgeries all end in AccessDeniedException and change
 * nothing; 30 orders proposed at once fill exactly the per-agent limit, every cycle; cash never
 * goes below minCash; the report's trading figures add up; a result over its hard limits (20,000
 * metrics) and one with a NaN metric are FAILED once each, never retried, and nothing halts.
 * Then the kill switch and reduce-only trading (issue 12): a halt cancels every working order and verifies
 * `noWorkingOrders`; a resume lands in REDUCE, where a cycle admits a sell of a held position and rejects a
 * buy, naming REDUCE; a flatten while halted leaves no position; `ops resume --to normal` right after a resume
 * is refused (cool-down) with exit code 2.
 */
import { listBooks, listCycleOrders, listFills, listWorkingOrders, readAccount, reconcileLedger, replayFills } from '../../lambdas/shared/trading/ledger';
import { runCli } from '../../ops/cli';
import type { OpsTarget } from '../../ops/target';
import { FORGERIES } from '../fixtures/rogue-agent';
import type { LocalRuntime } from '../../local/runtime';
import { e2eConfig, start, E2E_TIMEOUT } from './support';

jest.setTimeout(E2E_TIMEOUT);

describe('order path on the local runtime', () => {
  let rt: LocalRuntime;
  afterAll(() => rt?.close());

  it(
    'rogue forgeries are refused by IAM; a burst of 30 fills exactly 10 per cycle; cash stays above minCash',
    async () => {
      const config = e2eConfig((c) => {
        c.agents = [
          ...c.agents,
          { name: 'rogue', entry: 'test/fixtures/rogue-agent.ts', faultDomain: 'strategy' },
          { name: 'burst', entry: 'test/fixtures/promise-all-agent.ts', faultDomain: 'strategy' },
          { name: 'bloated', entry: 'test/fixtures/bloated-agent.ts', faultDomain: 'data' },
          { name: 'nan', entry: 'test/fixtures/nan-agent.ts', faultDomain: 'strategy' },
          { name: 'reducer', entry: 'test/fixtures/reducer-agent.ts', faultDomain: 'strategy' },
        ];
        c.risk = { ...c.risk, limits: { ...c.risk!.limits, minCashUsd: 100_000, maxOrdersPerCycle: 1000 } };
      });
      rt = await start({ config });
      const cycles = await rt.runSlots(3);
      const ledger = rt.tableEnv.LEDGER_TABLE;
      for (const cycle of cycles) {
        expect(cycle.status).toBe('SUCCEEDED');
        const rogue = cycle.agents.find((a) => a.name === 'rogue')!;
        expect(rogue.outcome).toBe('SUCCEEDED');
        expect(rogue.summary).toMatch(new RegExp(`^${FORGERIES.map((f) => `${f}:AccessDeniedException`).join(' ')}; orders: 1 filled`));
        // Results over the hard limits or invalid: FAILED with the reason, one attempt (never retried), nothing halts.
        const calls = (agent: string) => rt.invocations().filter((i) => i.execution === cycle.cycleId && i.target === agent).length;
        const bloated = cycle.agents.find((a) => a.name === 'bloated')!;
        expect(bloated.outcome).toBe('FAILED');
        expect(bloated.reason).toMatch(/AgentResultTooLarge.*20000 metrics exceed the limit of 100/);
        expect(calls('bloated')).toBe(1); // a data agent, whose domain retries 10 times: deterministic errors never are
        const nan = cycle.agents.find((a) => a.name === 'nan')!;
        expect(nan.outcome).toBe('FAILED');
        expect(nan.reason).toMatch(/AgentOutputInvalid/);
        expect(calls('nan')).toBe(1);
        const burst = cycle.agents.find((a) => a.name === 'burst')!;
        expect(burst.metrics).toMatchObject({ ordersProposed: 30, ordersPlaced: 10, ordersRejected: 20 });
        const t = cycle.trading!;
        expect(t.byAgent.burst).toMatchObject({ ordersPlaced: 10, ordersRejected: 20 });
        expect(t.ordersRejected.maxOrdersPerAgentPerCycle).toBeGreaterThanOrEqual(20);
        expect(t.cashUsd).toBeGreaterThanOrEqual(100_000);
        const sum = Object.values(t.byAgent).reduce((a, x) => a + Math.round(x.pnlUsd * 100), 0);
        expect(sum).toBe(Math.round(t.pnlUsd * 100)); // per-agent P&L adds up to the fleet's, to the cent
        expect(t.pnlUsd).toBeCloseTo(t.equityUsd - config.portfolio.startingCashUsd, 2);
      }
      expect((await rt.report()).system.halted).toBe(false);
      const denied = rt.accessDenied();
      expect(new Set(denied.map((d) => d.action))).toEqual(new Set(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
      expect(denied.every((d) => d.principal.endsWith('-rogue'))).toBe(true);
      const account = await readAccount(rt.doc, ledger, config.portfolio.startingCashUsd);
      expect(account.cash).toBeGreaterThanOrEqual(100_000);
      const fills = await listFills(rt.doc, ledger);
      expect(fills.filter((f) => f.agent === 'copybot' && f.symbol === 'KO' && f.qty === 1)).toEqual([]);
      expect(fills.filter((f) => f.agent === 'rogue')).toHaveLength(3); // its one front-door order per cycle, under its own name
      expect(
        reconcileLedger(
          account,
          await listBooks(rt.doc, ledger),
          replayFills(fills, config.portfolio.startingCashUsd),
          await listWorkingOrders(rt.doc, ledger),
        ),
      ).toEqual([]);

      // The kill switch cancels every working order (copybot rests DAY limits) and verifies none is left.
      const working = (await listWorkingOrders(rt.doc, ledger)).length;
      expect(working).toBeGreaterThan(0);
      const halt = (await rt.invokeMaster({ action: 'halt', source: 'operator', actor: 'operator:e2e', reason: 'drill' })) as {
        workingOrdersCancelled: number;
        verified: { noWorkingOrders: boolean; ok: boolean };
      };
      expect(halt.workingOrdersCancelled).toBe(working);
      expect(halt.verified).toMatchObject({ noWorkingOrders: true, ok: true });
      expect(await listWorkingOrders(rt.doc, ledger)).toEqual([]);
      const after = await readAccount(rt.doc, ledger, config.portfolio.startingCashUsd);
      expect(after.reservedCashUsd).toBeCloseTo(0, 6);
      expect(
        reconcileLedger(after, await listBooks(rt.doc, ledger), replayFills(await listFills(rt.doc, ledger), config.portfolio.startingCashUsd), []),
      ).toEqual([]);

      // Staged resume: into REDUCE. The next cycle admits only reducing orders, and the rejections name REDUCE.
      const resumed = (await rt.invokeOperator({ action: 'resume', reason: 'drill over' }, 'operator:e2e')) as { stage: string; coolDownUntil: string };
      expect(resumed).toMatchObject({ stage: 'reduce-only', coolDownUntil: expect.any(String) });
      const [reduceCycle] = await rt.runSlots(1);
      expect(reduceCycle.status).toBe('SUCCEEDED');
      const orders = await listCycleOrders(rt.doc, ledger, reduceCycle.cycleId);
      const mine = (agent: string) => orders.filter((o) => o.agent === agent);
      expect(mine('reducer').map((o) => [o.side, o.symbol, o.status, o.tradingState])).toEqual(
        expect.arrayContaining([
          ['SELL', 'KO', 'FILLED', undefined],
          ['BUY', 'GE', 'REJECTED', 'REDUCE'],
        ]),
      );
      expect(mine('burst').every((o) => o.status === 'REJECTED' && o.tradingState === 'REDUCE')).toBe(true);
      expect(orders.filter((o) => o.status === 'FILLED').every((o) => o.side === 'SELL')).toBe(true);

      // Halted again: a flatten is the one trading action admitted, and it leaves no position.
      await rt.invokeMaster({ action: 'halt', source: 'operator', actor: 'operator:e2e', reason: 'second drill' });
      const flat = (await rt.invokeOperator({ action: 'flatten', reason: 'close out' }, 'operator:e2e')) as { closed: number; notClosed: number };
      expect(flat.closed).toBeGreaterThan(0);
      expect(flat.notClosed).toBe(0);
      for (const b of await listBooks(rt.doc, ledger)) expect(Object.values(b.positions).filter((p) => p.qty !== 0)).toEqual([]);
      const flatAccount = await readAccount(rt.doc, ledger, config.portfolio.startingCashUsd);
      expect(Object.values(flatAccount.positions).filter((p) => p.qty !== 0)).toEqual([]);
      expect(
        reconcileLedger(flatAccount, await listBooks(rt.doc, ledger), replayFills(await listFills(rt.doc, ledger), config.portfolio.startingCashUsd), []),
      ).toEqual([]);

      // Resume, then --to normal right away through the ops CLI: refused (cool-down), exit code 2.
      const target = {
        describe: () => 'local runtime under test',
        resume: (reason: string, actor: string, to?: string) => rt.invokeOperator({ action: 'resume', reason, ...(to ? { to } : {}) }, actor),
        close: async () => undefined,
      } as unknown as OpsTarget;
      const io = { out: [] as string[], err: [] as string[] };
      const cliRun = (argv: string[]) => runCli(argv, async () => target, { out: (t) => io.out.push(t), err: (t) => io.err.push(t) });
      expect(await cliRun(['resume', '--reason', 'flat now', '--stack', 'S'])).toBe(0);
      expect(await cliRun(['resume', '--to', 'normal', '--reason', 'at once', '--stack', 'S'])).toBe(2);
      expect(io.err.at(-1)).toMatch(/^ops: ResumeRefused: Resume to normal refused: REDUCE cool-down .* 15 min left/);
      expect((await rt.report()).system).toMatchObject({ halted: false });

      expect(rt.accessDenied().filter((d) => !d.principal.endsWith('-rogue'))).toEqual([]); // the Master's and the operator function's own grants suffice
      // Four cycles, two halts, a flatten and three resumes: about 30 s alone, so twice the e2e budget on 2 shared cores.
    },
    2 * E2E_TIMEOUT,
  );
});
