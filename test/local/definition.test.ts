/** What the local runtime refuses before it starts: BUFFER_ONE fleets, unreadable market data, a definition that is not the rendered file. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../lib/config/schema';
import { renderCycleDefinition } from '../../lib/state-machine/definition';
import defaults from '../fixtures/fleet';
import { assertMarketDataReadable, assertRunnableLocally, loadCycleDefinition } from '../../local/definition';
import { LocalTemplate, type CfnTemplate } from '../../local/template';

const config = validateConfig(defaults);
/** Every `${Name}` placeholder of the rendered definition, substituted with a local ARN. */
const substitutions = Object.fromEntries(
  [...JSON.stringify(renderCycleDefinition(config)).matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map(([, n]) => [n, `arn:aws:lambda:local:000000000000:function:${n}`]),
);
const withMachine = (definition: unknown): CfnTemplate => ({
  Resources: {
    Cycle: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: JSON.stringify(definition), DefinitionSubstitutions: substitutions } },
  },
});

describe('local definition checks', () => {
  it('refuses overlap policy BUFFER_ONE, naming the group', () => {
    expect(() => assertRunnableLocally(config)).not.toThrow();
    const buffered = validateConfig({ ...defaults, cycle: { ...defaults.cycle, overlapPolicy: 'BUFFER_ONE' } });
    expect(() => assertRunnableLocally(buffered)).toThrow(/cannot run overlap policy BUFFER_ONE \(groups default\)/);
  });

  it('refuses a market data file that is missing or not a CSV, naming the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'definition-'));
    const notCsv = join(dir, 'prices.txt');
    writeFileSync(notCsv, 'just text\n');
    expect(() => assertMarketDataReadable(join(dir, 'missing.csv'))).toThrow(new RegExp(`Market data file .*missing\\.csv is unreadable`));
    expect(() => assertMarketDataReadable(notCsv)).toThrow(/is unreadable: not a CSV/);
  });

  it('loads the one state machine only when it is the rendered definition', () => {
    expect(() => loadCycleDefinition({ Resources: {} }, new LocalTemplate({ Resources: {} }), config)).toThrow(
      /Expected one state machine in the template, found 0/,
    );
    const rendered = withMachine(renderCycleDefinition(config));
    const loaded = loadCycleDefinition(rendered, new LocalTemplate(rendered), config);
    expect(loaded.stateMachineArn).toMatch(/:stateMachine:/);
    expect(Object.keys(loaded.notes.tasks).length).toBeGreaterThan(0);
    const tampered = withMachine({ ...renderCycleDefinition(config), Comment: 'edited by hand' });
    expect(() => loadCycleDefinition(tampered, new LocalTemplate(tampered), config)).toThrow(
      /differs from statemachines\/cycle\.asl\.json rendered for this config/,
    );
  });
});
