import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { OVERFLOW_PROBE, chromiumMissing, openBrowser } from '../../../test/browser.js';
import { makeTempHome } from '../../../test/helpers.js';
import type { OutboxPackage } from '../../render/package.js';
import { buildReports } from '../../reports/build-reports.js';
import { GOLDEN_SECRET, goldenPartnerConfig, writeGoldenSilver } from '../../../test/reports/golden-silver.js';
import { buildUpdateEmail } from '../update-email.js';

/**
 * insights.html and the partner e-mail as a reader sees them: opened in headless
 * Chromium at a phone's and a desktop's width, screenshotted, every chart box holding
 * drawn pixels, and no text wider than its box. Skips locally without Chromium; CI runs it.
 */
const skip = chromiumMissing && process.env.CI !== 'true' ? chromiumMissing : null;
if (skip) console.warn(`skipping the browser tests: ${skip}`);

let home: string;
let cleanup: () => Promise<void>;
let packages: OutboxPackage[];
let browser: Awaited<ReturnType<typeof openBrowser>> | undefined;

beforeAll(async () => {
  if (skip) return;
  ({ home, cleanup } = await makeTempHome('dataprod-pages-'));
  await writeGoldenSilver(home);
  const config = goldenPartnerConfig();
  packages = (await buildReports({ home, config, date: '2026-11-20', month: '2026-11', secret: GOLDEN_SECRET, now: new Date('2026-12-01T12:00:00Z') })).reports.map((built) => built.outbox);
  browser = await openBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await cleanup?.();
});

/** Share of pixels in a PNG that are not (near) white, decoded by the browser itself. */
async function inkShare(page: Page, png: Buffer): Promise<number> {
  return page.evaluate(async (dataUrl) => {
    const image = new Image();
    image.src = dataUrl;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let index = 0; index < data.length; index += 4) if (data[index]! < 200 || data[index + 1]! < 200 || data[index + 2]! < 200) ink += 1;
    return ink / (data.length / 4);
  }, `data:image/png;base64,${png.toString('base64')}`);
}

/** Opens HTML at each width; checks charts and overflow; returns the screenshots. */
async function look(html: string, minimumCharts: number): Promise<Buffer[]> {
  const page = await browser!.context.newPage();
  const shots: Buffer[] = [];
  try {
    for (const width of [375, 1000]) {
      await page.setViewportSize({ width, height: 900 });
      await page.setContent(html, { waitUntil: 'load' });
      const charts = page.locator('[data-chart]');
      const count = await charts.count();
      expect(count).toBeGreaterThanOrEqual(minimumCharts);
      for (let index = 0; index < count; index += 1) {
        const chart = charts.nth(index);
        const box = await chart.boundingBox();
        expect(box!.width).toBeGreaterThan(width > 500 ? 400 : 250);
        expect(box!.height).toBeGreaterThan(60);
        // Drawn: bars, lines and labels leave ink in the box (an empty or broken image does not).
        expect(await inkShare(page, await chart.screenshot())).toBeGreaterThan(0.01);
      }
      expect(await page.evaluate(OVERFLOW_PROBE)).toEqual([]);
      shots.push(await page.screenshot({ fullPage: true }));
    }
  } finally {
    await page.close();
  }
  return shots;
}

describe.skipIf(Boolean(skip))('insights.html and the partner e-mail in Chromium', () => {
  it('every insights.html draws its charts and fits 375 px and 1000 px', async () => {
    for (const pkg of packages) {
      const html = await readFile(join(pkg.dir, 'insights.html'), 'utf8');
      // Self-contained: nothing fetched from anywhere.
      expect(html).not.toMatch(/<script|<link|src="http|url\(/);
      const shots = await look(html, 2);
      for (const shot of shots) expect(shot.length).toBeGreaterThan(10_000);
    }
  });

  it('the e-mail HTML shows its inline PNG charts and fits 375 px and 1000 px', async () => {
    const config = { ...goldenPartnerConfig(), notifications: { ...goldenPartnerConfig().notifications, partner_recipients: ['analytics@ouchhungry.example.com'] } };
    const message = buildUpdateEmail({
      config,
      packages,
      receipts: packages.map((pkg) => ({ destination: 'partner-sftp', type: 'sftp', location: `sftp://sftp.ouchhungry.example.com:22/inbound/${pkg.manifest.report}/${pkg.manifest.period}/`, files: pkg.manifest.files, bytes: 1, retries: 0 })),
      failures: [{ destination: 'partner-api', type: 'api', report: 'daily-analytic', period: '2026-11-20', reason: 'HTTP 503 after 4 attempts' }],
      runId: '20261201T093000Z-abcdef',
    });
    // What a mail client does with cid: references: show the attached image.
    let html = message.html;
    for (const image of message.inline!) html = html.replace(`cid:${image.cid}`, `data:image/png;base64,${image.content.toString('base64')}`);
    await look(html, message.inline!.length);
  });

  it('the overflow probe sees text wider than its box, and a blank chart has no ink', async () => {
    const page = await browser!.context.newPage();
    try {
      await page.setViewportSize({ width: 375, height: 400 });
      await page.setContent('<div style="width:120px;white-space:nowrap">a line of text much wider than its box</div><div data-chart style="width:300px;height:100px;background:#fff"></div>');
      expect((await page.evaluate(OVERFLOW_PROBE)).length).toBeGreaterThan(0);
      expect(await inkShare(page, await page.locator('[data-chart]').screenshot())).toBeLessThan(0.01);
    } finally {
      await page.close();
    }
  });
});
