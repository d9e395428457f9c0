/**
 * The order in which the report-rendering tests pick their Chromium (tests/integration/support/browser.ts), with
 * injected probes — no browser is launched here: the npm package's binary on Linux x64, else Playwright's, else a
 * system one through PATH; with none, an error naming every place looked at (never a silent pass).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickBrowser, type BrowserProbe } from '../integration/support/browser.js';

const npmBinary = { executablePath: '/tmp/x/chromium', args: ['--single-process'], version: '143.0.4' };
const probe = (over: Partial<BrowserProbe>): BrowserProbe => ({
  platform: 'linux',
  arch: 'x64',
  npmChromium: () => Promise.resolve(npmBinary),
  playwrightPath: () => '/pw/chrome',
  executable: () => true,
  path: '/opt/bin:/bin',
  ...over,
});

test('Linux x64: the npm package binary first, even when Playwright and system browsers exist', async () => {
  const choice = await pickBrowser(probe({}));
  assert.equal(choice.executablePath, '/tmp/x/chromium');
  assert.equal(choice.source, 'npm @sparticuz/chromium 143.0.4');
  assert.deepEqual(choice.args, ['--single-process']);
});

test('macOS: Playwright-installed Chromium, the npm package is never asked', async () => {
  let asked = false;
  const choice = await pickBrowser(
    probe({ platform: 'darwin', arch: 'arm64', npmChromium: () => ((asked = true), Promise.resolve(npmBinary)) }),
  );
  assert.equal(choice.source, 'Playwright-installed');
  assert.equal(choice.executablePath, '/pw/chrome');
  assert.equal(asked, false);
});

test('no npm package and no Playwright browser: a system one through PATH, in PATH order', async () => {
  const choice = await pickBrowser(
    probe({
      npmChromium: () => Promise.resolve(undefined),
      executable: (f) => f === '/bin/chromium' || f === '/opt/bin/google-chrome',
    }),
  );
  assert.equal(choice.executablePath, '/bin/chromium');
  assert.match(choice.source, /^system \(\/bin\/chromium\)$/);
});

test('none anywhere: an error that names every place it looked', async () => {
  await assert.rejects(
    pickBrowser(probe({ platform: 'darwin', arch: 'x64', playwrightPath: () => undefined, executable: () => false })),
    (error: Error) => {
      assert.match(error.message, /no Chromium to render the HTML reports/);
      assert.match(error.message, /@sparticuz\/chromium \(Linux x64 only; this is darwin x64\)/);
      assert.match(
        error.message,
        /Playwright-installed Chromium \(none for this platform; npx playwright install chromium\)/,
      );
      assert.match(error.message, /a system browser named chromium, .* on PATH/);
      return true;
    },
  );
});
