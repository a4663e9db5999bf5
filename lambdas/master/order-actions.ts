/**
 * The operator's order actions without a halt: cancel-all (`ops cancel-all`) and flatten (`ops flatten`), both
 * through the order gateway (one order path, DESIGN.md section 9) and both audited. Operators only, a reason
 * required. Each is a short list of steps run by `runSteps` (`step-runner.ts`) around the audit write:
 * - cancel-all: orders (cancel every working order) -> audit `CANCEL_ALL` -> verify (count the working orders left)
 *   -> event `WorkingOrdersCancelled`;
 * - flatten: orders (cancel working orders, close every position) -> audit `FLATTEN` -> notify -> event `PositionsFlattened`.
 * The audit write is not a step: when it fails, the call throws that error (the later steps do not run).
 */
import { writeAuditEntry } from './control-store';
import type { FlattenReport } from '../shared/trading/gateway';
import { completeOrThrow, OrderActionRefused } from './kill-switch-errors';
import type { CancelAllResult, FlattenResult, KillSwitchEnv, OrderActionRequest } from './kill-switch-types';
import { runSteps, type StepError } from './step-runner';

/** @throws {OrderActionRefused} when `source` is not `operator` or `reason` is empty. */
function refuseOrderAction(what: string, req: OrderActionRequest): void {
  if (req.source !== 'operator') {
    throw new OrderActionRefused(`${what} refused: only an operator can ${what.toLowerCase()} (source was '${req.source}', actor ${req.actor})`);
  }
  if (!req.reason.trim()) throw new OrderActionRefused(`${what} refused: a reason is required (it goes to the audit trail)`);
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Cancels every working order without halting.
 * @throws {OrderActionRefused} when `source` is not `operator`, `reason` is empty, or there is no order book (nothing changed).
 * @throws {KillSwitchIncomplete} when cancelling, counting or publishing failed (the audit entry records what was cancelled).
 */
export async function cancelAll(env: KillSwitchEnv, req: OrderActionRequest): Promise<CancelAllResult> {
  const { ports, doc, controlTable } = env;
  refuseOrderAction('Cancel-all', req);
  if (!ports.cancelWorkingOrders) throw new OrderActionRefused('Cancel-all refused: this Master has no order book (no LEDGER_TABLE)');
  const errors: StepError[] = [];
  let cancelled = 0;
  let remaining = 0;
  await runSteps(
    [
      {
        step: 'orders',
        failure: 'cancelling working orders failed',
        run: async () => ({ cancelled: (cancelled = (await ports.cancelWorkingOrders?.(`cancel-all by ${req.actor}: ${req.reason}`)) ?? 0) }),
      },
    ],
    errors,
  );
  const change = await writeAuditEntry(doc, controlTable, 'CANCEL_ALL', cancelled > 0, {
    actor: req.actor,
    reason: `${req.reason} (${plural(cancelled, 'working order')} cancelled)`,
    at: env.now(),
  });
  await runSteps(
    [
      {
        step: 'verify',
        failure: 'counting working orders failed',
        run: async () => ({ remaining: (remaining = (await ports.countWorkingOrders?.()) ?? 0) }),
      },
      {
        step: 'event',
        run: () => ports.publishEvent('WorkingOrdersCancelled', { actor: req.actor, reason: req.reason, cancelled, remaining }),
      },
    ],
    errors,
  );
  return completeOrThrow('Cancel-all', { action: 'CANCEL_ALL', cancelled, remaining, audit: change.audit, errors });
}

/**
 * Closes every position (working orders cancelled first) with market orders through the order gateway.
 * @throws {OrderActionRefused} when `source` is not `operator`, `reason` is empty, or there is no order book / market data.
 * @throws {KillSwitchIncomplete} when a position could not be closed (no price), the gateway failed, or notifying failed.
 */
export async function flatten(env: KillSwitchEnv, req: OrderActionRequest): Promise<FlattenResult> {
  const { ports, doc, controlTable } = env;
  refuseOrderAction('Flatten', req);
  if (!ports.flattenPositions) throw new OrderActionRefused('Flatten refused: this function has no order book or market data (LEDGER_TABLE, MARKET_DATA_FILE)');
  const at = env.now();
  const flattenId = `flatten-${new Date(at).toISOString().replace(/[-:.]/g, '')}`;
  const errors: StepError[] = [];
  let report: FlattenReport = { flattenId, workingOrdersCancelled: 0, positions: [], closed: 0, notClosed: 0, barIndex: -1, asOf: 'unknown' };
  await runSteps(
    [
      {
        step: 'orders',
        failure: 'flatten failed',
        run: async (scope) => {
          report = (await ports.flattenPositions?.({ flattenId, actor: req.actor, reason: req.reason })) ?? report;
          for (const p of report.positions.filter((x) => x.status !== 'FILLED')) scope.fail(`${p.agent} ${p.symbol}: not closed: ${p.reason ?? 'rejected'}`);
          return { closed: report.closed, notClosed: report.notClosed, workingOrdersCancelled: report.workingOrdersCancelled };
        },
      },
    ],
    errors,
  );
  const change = await writeAuditEntry(doc, controlTable, 'FLATTEN', report.closed > 0 || report.workingOrdersCancelled > 0, {
    actor: req.actor,
    reason: `${req.reason} (${flattenId}: ${plural(report.closed, 'position')} closed at ${report.asOf}, ${report.notClosed} not closed, ${report.workingOrdersCancelled} working orders cancelled)`,
    at,
  });
  await runSteps(
    [
      {
        step: 'notify',
        run: () =>
          ports.notify(
            `[agent-fleet] FLATTEN: ${req.reason}`,
            `${req.actor} flattened the fleet (${flattenId}): ${report.closed} positions closed at the close of ${report.asOf}, ${report.notClosed} not closed, ${report.workingOrdersCancelled} working orders cancelled.\nReason: ${req.reason}`,
          ),
      },
      { step: 'event', run: () => ports.publishEvent('PositionsFlattened', { actor: req.actor, reason: req.reason, ...report }) },
    ],
    errors,
  );
  return completeOrThrow('Flatten', { action: 'FLATTEN', ...report, audit: change.audit, errors });
}
