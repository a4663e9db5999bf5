/** The synthesized app's disk cache: what its key covers, atomic writes, pruning, and the runtime serving from it. */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_MODEL_MAX_AGE_MS, APP_MODEL_SOURCES, appModelKey, readCachedAppModel, writeCachedAppModel } from '../../local/app-model-cache';
import { synthAppModel } from '../../local/runtime';
import { fixtureConfig } from '../fixtures/fleet';

/** A root with one file in each source directory (the key reads only these). */
function fakeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'model-key-'));
  for (const s of APP_MODEL_SOURCES) {
    if (s.includes('.')) writeFileSync(join(root, s), `{"${s}":1}`);
    else {
      mkdirSync(join(root, s), { recursive: true });
      writeFileSync(join(root, s, 'a.ts'), `export const a = '${s}';`);
    }
  }
  return root;
}

describe('appModelKey', () => {
  it('changes with the config, with any source file, with an agent entry outside the sources, and with CDK_VALIDATION', () => {
    const root = fakeRoot();
    const config = fixtureConfig();
    const key = appModelKey(config, root);
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(appModelKey(config, root)).toBe(key);
    expect(
      appModelKey(
        fixtureConfig((c) => (c.cycle = { ...c.cycle, maxWorkers: 3 })),
        root,
      ),
    ).not.toBe(key);

    // The sources are hashed once per process and root: a copy of the root with one file changed is a new digest.
    const changed = mkdtempSync(join(tmpdir(), 'model-key-'));
    cpSync(root, changed, { recursive: true });
    writeFileSync(join(changed, 'lambdas', 'a.ts'), 'export const a = 2;');
    expect(appModelKey(config, changed)).not.toBe(appModelKey(config, root));

    // An agent entry outside the sources (a user's file elsewhere in the repo) is hashed by its contents.
    mkdirSync(join(root, 'my-agents'));
    writeFileSync(join(root, 'my-agents', 'x.ts'), 'v1');
    const withEntry = fixtureConfig((c) => c.agents.push({ name: 'extra', faultDomain: 'data', entry: 'my-agents/x.ts' }));
    const k1 = appModelKey(withEntry, root);
    writeFileSync(join(root, 'my-agents', 'x.ts'), 'v2');
    expect(appModelKey(withEntry, root)).not.toBe(k1);

    const saved = process.env.CDK_VALIDATION;
    process.env.CDK_VALIDATION = 'true';
    try {
      expect(appModelKey(config, root)).not.toBe(key);
    } finally {
      if (saved === undefined) delete process.env.CDK_VALIDATION;
      else process.env.CDK_VALIDATION = saved;
    }
  });
});

describe('readCachedAppModel / writeCachedAppModel', () => {
  it('round-trips a model, leaves no temporary file, and prunes entries unused for 7 days', () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-cache-'));
    expect(readCachedAppModel('k1', dir)).toBeUndefined();
    writeCachedAppModel('old', { n: 0 }, dir);
    const longAgo = new Date(Date.now() - APP_MODEL_MAX_AGE_MS - 60_000);
    utimesSync(join(dir, 'old.json'), longAgo, longAgo);
    writeCachedAppModel('k1', { n: 1 }, dir);
    expect(readCachedAppModel('k1', dir)).toEqual({ n: 1 });
    expect(readdirSync(dir).sort()).toEqual(['k1.json']);
  });

  it('an unreadable entry is a miss, not an error; an unwritable directory is not an error either', () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-cache-'));
    writeFileSync(join(dir, 'bad.json'), '{not json');
    expect(readCachedAppModel('bad', dir)).toBeUndefined();
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(() => writeCachedAppModel('k', { n: 1 }, join(file, 'sub'))).not.toThrow();
  });
});

describe('synthAppModel with a cache directory', () => {
  it('a second process (a cold memo) is served from the disk, and the config checks still run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-cache-'));
    const config = fixtureConfig();
    const first = synthAppModel(config, { cacheDir: dir });
    expect(readdirSync(dir)).toEqual([`${appModelKey(config)}.json`]);
    // The supervisor's settings travel as contents, not as a path into a temporary cloud assembly.
    const sup = first.functions.find((f) => f.role === 'supervisor')!;
    expect(JSON.parse(sup.assetFiles!['supervisor-settings.json'])).toHaveProperty('agents');

    // A config whose check warns (a critical domain with retries), synthesized once; then a mark in its cache entry.
    const warning = fixtureConfig((c) => (c.faultDomains = { critical: { maxRetries: 2 } }));
    const quiet = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    synthAppModel(warning, { cacheDir: dir });
    quiet.mockRestore();
    const file = join(dir, `${appModelKey(warning)}.json`);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), stackName: 'FromTheCache' }));

    // A fresh module registry is a fresh process's memo: the model comes from the file, and the warning still prints.
    jest.isolateModules(() => {
      const fresh = require('../../local/runtime') as typeof import('../../local/runtime');
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        expect(fresh.synthAppModel(warning, { cacheDir: dir }).stackName).toBe('FromTheCache');
        expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringMatching(/^warning: config faultDomains\.critical\.maxRetries: /)]);
        // Without the cache it synthesizes.
        expect(
          fresh.synthAppModel(
            fixtureConfig((c) => (c.cycle = { ...c.cycle, maxWorkers: 2 })),
            { cacheDir: false },
          ).stackName,
        ).toBe('AgentFleet');
      } finally {
        warn.mockRestore();
      }
    });
  });
});
