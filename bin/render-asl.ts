/**
 * `npm run render:asl`: writes `statemachines/cycle.asl.json`, the cycle definition rendered for the
 * schema's defaults (`DEFAULT_RENDER_CONFIG` in `lib/state-machine/definition.ts`). Run it after
 * changing the definition's description or renderer; `test/state-machine/definition.test.ts` fails
 * while the file differs from the rendering.
 *
 * `--check`: write nothing; exit 1 with one line on stderr when the file differs, 0 when it is current.
 * Any other argument: exit 2 with the usage.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { validateConfig } from '../lib/config/schema';
import { CYCLE_DEFINITION_FILE, DEFAULT_RENDER_CONFIG, formatDefinitionFile, renderCycleDefinition } from '../lib/state-machine/definition';

const args = process.argv.slice(2);
if (args.some((a) => a !== '--check')) {
  process.stderr.write(`render-asl: unknown argument ${JSON.stringify(args.find((a) => a !== '--check'))}; usage: npm run render:asl [-- --check]\n`);
  process.exit(2);
}
const text = formatDefinitionFile(renderCycleDefinition(validateConfig(DEFAULT_RENDER_CONFIG)));
const file = relative(process.cwd(), CYCLE_DEFINITION_FILE);
let current: string | undefined;
try {
  current = readFileSync(CYCLE_DEFINITION_FILE, 'utf8');
} catch {
  current = undefined;
}
if (args.includes('--check')) {
  if (current !== text) {
    process.stderr.write(`${file} differs from the rendered definition: run npm run render:asl\n`);
    process.exit(1);
  }
} else if (current === text) {
  process.stderr.write(`${file} is up to date\n`);
} else {
  writeFileSync(CYCLE_DEFINITION_FILE, text);
  process.stderr.write(`wrote ${file}\n`);
}
