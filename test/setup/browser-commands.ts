/**
 * Browser commands (run in the Vitest Node process, with Playwright): open a second, separate page
 * of the same Chromium (its own document, JS realm, libp2p node and RTCPeerConnections) and read a
 * value from it. The browser p2p test uses them to run the dashboard as a second page.
 */
import type { Page } from 'playwright';
import type { BrowserCommand } from 'vitest/node';

const pages = new Map<string, Page>();

/** Open `url` in a new page of the test's browser context, as `id`. */
export const openPage: BrowserCommand<[id: string, url: string]> = async (ctx, id, url) => {
  const page = await ctx.context.newPage();
  pages.set(id, page);
  await page.goto(url);
};

/** Evaluate a JavaScript expression (an async function body's return value) in page `id`; JSON back. */
export const evalInPage: BrowserCommand<[id: string, body: string]> = async (_ctx, id, body) => {
  const page = pages.get(id);
  if (!page) throw new Error(`no page ${id}`);
  return page.evaluate(`(async () => { ${body} })()`);
};

export const closePage: BrowserCommand<[id: string]> = async (_ctx, id) => {
  await pages.get(id)?.close();
  pages.delete(id);
};

declare module 'vitest/browser' {
  interface BrowserCommands {
    openPage(id: string, url: string): Promise<void>;
    evalInPage(id: string, body: string): Promise<unknown>;
    closePage(id: string): Promise<void>;
  }
}
