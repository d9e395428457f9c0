/**
 * The one place that picks the Chromium the report-rendering tests drive with Playwright
 * (`chromium.launch({ executablePath })`). In order:
 *   1. on Linux x64, the binary shipped inside the npm package `@sparticuz/chromium` (a devDependency: nothing is
 *      downloaded, no apt, no root), unpacked once per version into the temp folder;
 *   2. else a Playwright-installed Chromium (`npx playwright install chromium`), where one exists;
 *   3. else a system Chrome/Chromium found through PATH (or the usual macOS application folders).
 * With none of them, {@link launchBrowser} throws a message naming everything it tried — a test that needs a browser
 * fails, it never passes silently.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { chromium, type Browser } from '@playwright/test';

/** A browser executable and where it came from (named in every message about it). */
export interface BrowserChoice {
  executablePath: string;
  args: string[];
  /** e.g. `npm @sparticuz/chromium 143.0.4`, `Playwright-installed`, `system (PATH)`. */
  source: string;
}

/** What {@link pickBrowser} may look at; injectable so the order is unit-tested without any browser. */
export interface BrowserProbe {
  platform: NodeJS.Platform;
  arch: string;
  /** The npm package's binary, unpacked (only asked for on Linux x64); undefined when the package is not installed. */
  npmChromium: () => Promise<{ executablePath: string; args: string[]; version: string } | undefined>;
  /** Playwright's own Chromium path, or undefined when Playwright has none for this platform. */
  playwrightPath: () => string | undefined;
  /** True when the file exists and may be executed. */
  executable: (file: string) => boolean;
  /** The PATH variable. */
  path: string | undefined;
}

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
const MAC_APPS = [
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];
const COMMON_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** Picks the executable (see the module comment for the order); throws naming every place it looked. */
export async function pickBrowser(probe: BrowserProbe): Promise<BrowserChoice> {
  const tried: string[] = [];
  if (probe.platform === 'linux' && probe.arch === 'x64') {
    const npm = await probe.npmChromium();
    if (npm)
      return { executablePath: npm.executablePath, args: npm.args, source: `npm @sparticuz/chromium ${npm.version}` };
    tried.push('npm @sparticuz/chromium (not installed: run npm ci)');
  } else tried.push(`npm @sparticuz/chromium (Linux x64 only; this is ${probe.platform} ${probe.arch})`);
  const playwright = probe.playwrightPath();
  if (playwright !== undefined && probe.executable(playwright))
    return { executablePath: playwright, args: COMMON_ARGS, source: 'Playwright-installed' };
  tried.push(
    `Playwright-installed Chromium (${playwright ?? 'none for this platform'}; npx playwright install chromium)`,
  );
  const dirs = (probe.path ?? '').split(delimiter).filter((d) => d !== '');
  for (const name of SYSTEM_NAMES) {
    for (const dir of dirs) {
      const file = join(dir, name);
      if (probe.executable(file)) return { executablePath: file, args: COMMON_ARGS, source: `system (${file})` };
    }
  }
  if (probe.platform === 'darwin')
    for (const app of MAC_APPS)
      if (probe.executable(app)) return { executablePath: app, args: COMMON_ARGS, source: `system (${app})` };
  tried.push(`a system browser named ${SYSTEM_NAMES.join(', ')} on PATH`);
  throw new Error(`no Chromium to render the HTML reports with; tried: ${tried.join('; ')}`);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Unpacks `@sparticuz/chromium`'s binary into `<tmp>/dynamic-conformance-chromium-<version>/` once. The package
 * unpacks into `os.tmpdir()`; it is pointed at a private folder that is renamed into place when complete, so
 * concurrent test processes never launch a half-written binary, nor another version's.
 */
async function npmChromium(): Promise<{ executablePath: string; args: string[]; version: string } | undefined> {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  } catch {
    return undefined;
  }
  let root = dirname(entry);
  while (
    !existsSync(join(root, 'package.json')) ||
    !/"name":\s*"@sparticuz\/chromium"/.test(readFileSync(join(root, 'package.json'), 'utf8'))
  ) {
    if (dirname(root) === root) throw new Error(`no package.json above ${entry}`);
    root = dirname(root);
  }
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const { default: Chromium } = await import('@sparticuz/chromium');
  const target = join(tmpdir(), `dynamic-conformance-chromium-${version}`);
  if (!existsSync(join(target, 'chromium'))) {
    const partial = `${target}.partial-${process.pid}-${Date.now()}`;
    mkdirSync(partial, { recursive: true });
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = partial;
    let unpacking: Promise<string>;
    try {
      // The package computes its output folders synchronously inside this call (from os.tmpdir()).
      unpacking = Chromium.executablePath();
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    const binary = await unpacking;
    if (dirname(binary) !== partial) throw new Error(`@sparticuz/chromium unpacked to ${binary}, not into ${partial}`);
    try {
      renameSync(partial, target);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another process finished first: use its copy
    }
  }
  // The package's flags are made for serverless hosts; --single-process there makes a closed page close the browser.
  return {
    executablePath: join(target, 'chromium'),
    args: Chromium.args.filter((a) => a !== '--single-process'),
    version,
  };
}

/** The choice on this machine. */
export function chooseBrowser(): Promise<BrowserChoice> {
  return pickBrowser({
    platform: process.platform,
    arch: process.arch,
    npmChromium,
    playwrightPath: () => {
      try {
        return chromium.executablePath();
      } catch {
        return undefined;
      }
    },
    executable: isExecutable,
    path: process.env.PATH,
  });
}

/** Launches the chosen Chromium headless; a launch failure names the executable and its source. */
export async function launchBrowser(): Promise<{ browser: Browser; choice: BrowserChoice }> {
  const choice = await chooseBrowser();
  try {
    return {
      browser: await chromium.launch({ executablePath: choice.executablePath, args: choice.args, headless: true }),
      choice,
    };
  } catch (error) {
    throw new Error(
      `could not launch ${choice.source} Chromium at ${choice.executablePath}: ` +
        (error as Error).message.split('\n')[0]!,
    );
  }
}
