/**
 * Render check for the report page, run by hand (needs Chromium; not part of CI):
 *   apt-get install -y chromium && npm run build:bench && node dist/bench/check-html.js [perf-reports/latest.html]
 * Opens the page in headless Chromium with every network request refused, checks that it has
 * one SVG per scenario and a table, and screenshots it to latest.png beside the HTML.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const html = resolve(process.argv[2] ?? join(REPO, 'perf-reports', 'latest.html'));
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(html)) throw new Error(`no report page at ${html} (run npm run bench first)`);
if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath} (apt-get install -y chromium)`);

const browser = await chromium.launch({
  executablePath,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const external: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(html).href);
  const sections = await page.locator('section').count();
  const svgs = await page.locator('section svg').count();
  const rows = await page.locator('table tbody tr').count();
  const png = join(dirname(html), 'latest.png');
  await page.screenshot({ path: png, fullPage: true });
  process.stdout.write(`sections ${sections}, svgs ${svgs}, table rows ${rows}, external requests ${external.length}\nwrote ${png}\n`);
  if (svgs !== sections || sections === 0 || rows === 0 || external.length > 0) {
    process.stderr.write(`check-html: FAILED${external.length > 0 ? ` (external: ${external.join(', ')})` : ''}\n`);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
