/**
 * Entry point of `npm run ops` (usage: `ops/cli.ts`). It wires the local runtime's target
 * (`local/ops-target.ts`, for `--local [dir]`) into the operator CLI, which does not import `local/`
 * itself (a layer rule, `npm run lint:layers`). The local runtime is loaded only when `--local` is
 * given, so commands against AWS do not load it.
 *
 * Exit codes: those of {@link runCli}; 1 with one line on stderr if the CLI itself throws.
 */
import { colorEnabled } from '../local/cli-env';
import { consoleIo, createTargetFactory, runCli } from '../ops/cli';

const openLocal = async (dir: string) => (await import('../local/ops-target')).openLocalOpsTarget(dir);

runCli(process.argv.slice(2), createTargetFactory(openLocal), consoleIo, colorEnabled(process.stdout)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ops: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
