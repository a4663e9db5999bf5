/**
 * Renders an HTML file in the system's headless Chromium (Debian's `chromium`, installed by
 * `.ci/run`) through playwright-core, and reports what a person would see: the console errors,
 * the page errors, the canvases and whether Chart.js drew on them, and a screenshot.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

/** The system Chromium (Debian package `chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** True when the system Chromium exists; tests skip with this reason otherwise. */
export const hasChromium = existsSync(CHROMIUM);

/** Directory for test output (screenshots), gitignored. */
export const TEST_OUTPUT = join(__dirname, '..', '..', 'test-output');

/** What the page showed. */
export interface RenderedPage {
  consoleErrors: string[];
  pageErrors: string[];
  /** Per canvas: id, size in CSS px, whether Chart.js owns it, and how many non-blank pixels it has. */
  canvases: { id: string; width: number; height: number; chart: boolean; inkedPixels: number }[];
  /** The page's `<h2>` texts. */
  headings: string[];
  /** Requests to anything but the file itself (the page must load nothing). */
  externalRequests: string[];
  /** Text of the body. */
  text: string;
}

/**
 * Opens `file` in headless Chromium, waits for it to load, takes a full-page screenshot to
 * `screenshot`, and returns what it found.
 */
export async function renderInChromium(file: string, screenshot: string): Promise<RenderedPage> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  // A fresh profile directory (Chromium's --user-data-dir: playwright passes it for a persistent context).
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    const externalRequests: string[] = [];
    const url = pathToFileURL(file).href;
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('request', (r) => r.url() !== url && !r.url().startsWith('data:') && externalRequests.push(r.url()));
    await page.goto(url, { waitUntil: 'load' });
    // Page-side code as text: the project's tsconfig has no DOM library.
    await page.waitForFunction("document.body.hasAttribute('data-charts')", undefined, { timeout: 10_000 }).catch(() => undefined);
    const result = (await page.evaluate(`(() => {
      const canvases = [...document.querySelectorAll('canvas')].map((c) => {
        const ctx = c.getContext('2d');
        let inked = 0;
        if (ctx && c.width && c.height) {
          const px = ctx.getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) inked++;
        }
        const r = c.getBoundingClientRect();
        return { id: c.id, width: Math.round(r.width), height: Math.round(r.height), chart: Boolean(window.Chart && window.Chart.getChart(c)), inkedPixels: inked };
      });
      return { canvases, headings: [...document.querySelectorAll('h2')].map((h) => h.textContent || ''), text: document.body.innerText };
    })()`)) as Pick<RenderedPage, 'canvases' | 'headings' | 'text'>;
    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    return { consoleErrors, pageErrors, externalRequests, ...result };
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
