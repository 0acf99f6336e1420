import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';

/**
 * Headless Chromium (Debian's `chromium`) for tests that look at our HTML as a reader
 * would. Missing locally: tests skip with this reason; in CI (CI=true) they must run.
 */
export const CHROMIUM = process.env.DATAPROD_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumMissing = existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`;

/** Offline, quiet flags: no network of its own, no first-run work, no GPU, no sandbox (root in CI). */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A browser in a fresh profile; `close` also removes the profile. */
export async function openBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const userDataDir = await mkdtemp(join(tmpdir(), 'dataprod-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, offline: true });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Elements whose content is wider than their box (text cut or spilling out), as short descriptions. */
export const OVERFLOW_PROBE = `(() => {
  const found = [];
  const pageWidth = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > pageWidth + 1) found.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + pageWidth);
  for (const element of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(element);
    if (style.display === 'inline' || element.closest('svg')) continue;
    if (element.scrollWidth > element.clientWidth + 1 && style.overflowX !== 'auto' && style.overflowX !== 'scroll') {
      found.push(element.tagName.toLowerCase() + (element.className ? '.' + element.className : '') + ': ' + (element.textContent || '').trim().slice(0, 60) + ' (' + element.scrollWidth + ' > ' + element.clientWidth + ')');
    }
    const box = element.getBoundingClientRect();
    if (box.width > 0 && box.right > pageWidth + 1) found.push(element.tagName.toLowerCase() + ' extends past the page: ' + Math.round(box.right) + ' > ' + pageWidth);
  }
  return found.slice(0, 10);
})()`;
