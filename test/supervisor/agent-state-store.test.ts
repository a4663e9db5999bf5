/**
 * "Plan cycle" reads the control item and every agent's state with consistent BatchGetItem
 * calls of at most 100 keys (AWS limit): fleets larger than one call must be read whole.
 */
import { freshAgentState } from '../../lambdas/shared/supervision/agent-state';
import { AgentStateStore } from '../../lambdas/shared/supervision/agent-state-store';
import { startDynalite, type TestDynamo } from '../support/dynalite';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('batch');
});
afterAll(() => db.stop());

test('reads 250 agents (three BatchGetItem calls) and the control item', async () => {
  const store = new AgentStateStore(db.doc, { agentState: db.tables.AgentState, control: db.tables.Control });
  const names = Array.from({ length: 250 }, (_, i) => `agent-${i}`);
  // Give every third agent a stored item so reads must come back from all three calls.
  for (const name of names.filter((_, i) => i % 3 === 0)) {
    expect(await store.putIfVersion({ ...freshAgentState(name), executions: 7, successes: 7, version: 1 }, 0)).toBe(true);
  }
  const { control, states } = await store.readControlAndAgents(names);
  expect(control.halted).toBe(false);
  expect(states.size).toBe(250);
  expect(states.get('agent-0')?.executions).toBe(7);
  expect(states.get('agent-249')?.executions).toBe(7); // 249 = 3 * 83, served by the third call
  expect(states.get('agent-100')?.executions).toBe(0); // not stored: fresh state
});
