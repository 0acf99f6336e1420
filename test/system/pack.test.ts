import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The package as a user gets it: `npm pack`, installed with `npm install --omit=dev` into an
 * empty directory (so no devDependency and no file outside `files` can help), then the
 * README quick start through `npx dataprod`. It downloads the runtime dependencies from the
 * registry and generates a month, so it runs in CI and when DATAPROD_TEST_PACK=1.
 */

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const enabled = process.env.CI === 'true' || process.env.DATAPROD_TEST_PACK === '1';

describe.skipIf(!enabled)('the packed tarball (skipped locally: set DATAPROD_TEST_PACK=1; it installs from the registry)', () => {
  it('installs with --omit=dev into an empty directory and runs the quick start', async () => {
    const work = await mkdtemp(join(tmpdir(), 'dataprod-pack-'));
    try {
      // --ignore-scripts: `npm test` has just built dist/; prepack would rebuild it under the other tests' feet.
      const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root });
      const [{ filename, files }] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
      const paths = files.map((file) => file.path);
      expect(paths).toContain('dist/cli.js');
      expect(paths).toContain('partners/ouchhungry.yaml');
      expect(paths.filter((path) => path.startsWith('src/') || path.endsWith('.test.js'))).toEqual([]);

      const app = join(work, 'app');
      await run('mkdir', [app]);
      // What the README tells a user: ssh2's optional native crypto addon is not needed.
      await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'pack-test', private: true, allowScripts: { ssh2: false, 'cpu-features': false } }));
      const installed = await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', join(work, filename)], { cwd: app, maxBuffer: 16 << 20 });
      expect(installed.stderr).not.toMatch(/install-scripts|ERR!/);

      const version = await run('npx', ['--no-install', 'dataprod', '--version'], { cwd: app });
      expect(version.stdout.trim()).toMatch(/\d+\.\d+\.\d+/);

      const home = join(work, 'home');
      const quickStart = await run('npx', ['--no-install', 'dataprod', 'run', '--partner', 'ouchhungry', '--sandbox', '--home', home], {
        cwd: app,
        maxBuffer: 16 << 20,
        env: { ...process.env, DATAPROD_HOME: '', NO_COLOR: '1' },
      });
      expect(quickStart.stderr).not.toMatch(/this is a bug/);
      expect(existsSync(join(home, 'sandbox', 'mail'))).toBe(true);
      expect(readdirSync(join(home, 'sandbox', 'mail')).some((name) => name.endsWith('.eml'))).toBe(true);
      expect(readdirSync(join(home, 'sandbox', 'sftp', 'inbound'))).toContain('daily-analytic');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 600_000);
});
