import type { BrowserContext, Page } from 'playwright-core';
import { findSecret, secretForms } from './secret-forms';

/** One thing a browser context sent, received or kept, as text, and where it was. */
export interface Seen {
  where: string;
  text: string;
}

/**
 * Everything a browser context sends, receives or keeps, as text: every request (URL, headers,
 * body), every response (headers and body: pages, scripts, API answers), console messages, and
 * on each snapshot the page's HTML, its storage and every cookie, HttpOnly ones included.
 */
export function watch(context: BrowserContext) {
  const seen: Seen[] = [];
  const pending: Promise<unknown>[] = [];
  context.on('request', (req) => {
    pending.push(
      req.allHeaders().then((headers) =>
        seen.push({
          where: `request ${req.method()} ${req.url()}`,
          text: `${req.url()}\n${JSON.stringify(headers)}\n${req.postData() ?? ''}`,
        }),
      ),
    );
  });
  context.on('response', (res) => {
    const where = `response ${res.status()} ${res.request().method()} ${res.url()}`;
    pending.push(
      res.allHeaders().then((headers) => seen.push({ where, text: JSON.stringify(headers) })),
      res.body().then(
        (body) => seen.push({ where: `${where} body`, text: body.toString('utf8') }),
        // Redirects and bodiless answers have nothing to read.
        () => undefined,
      ),
    );
  });
  context.on('console', (message) => seen.push({ where: 'console', text: message.text() }));
  return {
    seen,
    async snapshot(page: Page, label: string): Promise<void> {
      seen.push({ where: `${label}: page HTML`, text: await page.content() });
      // The text as shown, which is what an operator could copy from the screen.
      seen.push({ where: `${label}: page text`, text: await page.innerText('body') });
      const storage = await page.evaluate(() => ({
        local: JSON.stringify({ ...localStorage }),
        session: JSON.stringify({ ...sessionStorage }),
      }));
      seen.push({ where: `${label}: localStorage`, text: storage.local });
      seen.push({ where: `${label}: sessionStorage`, text: storage.session });
      seen.push({ where: `${label}: cookies`, text: JSON.stringify(await context.cookies()) });
    },
    /** Waits for every body read so far, including those started while waiting. */
    async settled(): Promise<Seen[]> {
      for (let done = 0; done < pending.length;) {
        const batch = pending.length;
        await Promise.all(pending.slice(done, batch));
        done = batch;
      }
      return seen;
    },
  };
}

/** Every form of `secret` found in what was seen, as `where: form`. */
export function leaks(seen: readonly Seen[], secret: string): string[] {
  const forms = secretForms(secret);
  return seen.flatMap(({ where, text }) => findSecret(text, forms).map((f) => `${where}: ${f}`));
}
