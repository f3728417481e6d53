/**
 * A new shopper's grid follows what they do in this visit: on a shop page of our own with the shipped
 * model, a shopper without history clicks three products of one kind, and the grid's other products of
 * that kind move above where the merchant's order has them (most of them, and by a tenth of the grid on
 * average); the highest of them says which click pulled it up (the visit part, src/model/visit.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright';
import { browserAndServer, gridPage, watchedPage } from './helpers.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const catalog = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/online-retail/catalog.json'), 'utf8')) as {
  ids: string[];
  titles: string[];
};

const env = browserAndServer();

/** The shop's grid: its 48 best sellers (the catalog's order is by sales), then the kind's other products. */
function grid(kind: string): { ids: string[]; ofKind: string[] } {
  const ofKind = catalog.ids.filter((_, i) => catalog.titles[i]?.includes(kind));
  const ids = [...catalog.ids.slice(0, 48)];
  for (const id of ofKind) if (!ids.includes(id)) ids.push(id);
  return { ids, ofKind };
}

/** Serves /visit-shop.html: the grid of `ids` with the script tag and the shipped model. */
async function routeShop(page: Page, ids: string[]): Promise<void> {
  const cards = ids.map((id) => `<li data-shelfwise-item="${id}">${id}</li>`).join('');
  await page.route('**/visit-shop.html', (r) =>
    r.fulfill({
      contentType: 'text/html',
      body: gridPage(cards, '/models/online-retail/model.json'),
    }),
  );
}

for (const kind of ['LUNCH BAG', 'ALARM CLOCK', 'DOORMAT']) {
  test(`a new shopper clicks three products of one kind (${kind.toLowerCase()}): the others of that kind move up`, async () => {
    const { ids, ofKind } = grid(kind);
    const ctx = await env.browser.newContext({ viewport: { width: 1200, height: 900 } });
    const { page, errors } = await watchedPage(ctx);
    await routeShop(page, ids);
    await page.goto(env.url + '/visit-shop.html');
    await page.waitForFunction(() => (window as any).shelfwise?.recommender, null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => (window as any).shelfwise.recommender.ready), true);
    const clicked = ofKind.slice(0, 3);
    for (const id of clicked) {
      await page.click(`[data-shelfwise-item="${id}"]`);
      await page.waitForTimeout(400);
    }
    const ranked: Array<{ itemId: string; position: number; defaultPosition: number; reason: string | null }> =
      await page.evaluate((all) => new Promise((r) => (window as any).shelfwise('rank', all, r)), ids);
    const dom = await page.$$eval('[data-shelfwise-grid] > li', (els) =>
      els.map((e) => e.getAttribute('data-shelfwise-item')),
    );
    assert.deepEqual(
      dom,
      ranked.map((r) => r.itemId),
      'the grid shows the ranking',
    );
    const others = ranked.filter((r) => ofKind.includes(r.itemId) && !clicked.includes(r.itemId));
    const up = others.filter((r) => r.position < r.defaultPosition);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const detail = others.map((r) => `${r.itemId} ${r.defaultPosition}→${r.position}`).join(', ');
    assert.ok(up.length * 2 > others.length, `more than half move up: ${detail}`);
    // Visibly: on average they rise by at least a tenth of the grid.
    const rise = mean(others.map((r) => r.defaultPosition)) - mean(others.map((r) => r.position));
    assert.ok(rise >= ids.length / 10, `up by ${rise.toFixed(1)} slots on average: ${detail}`);
    // A product the clicks pulled up says which click it was.
    const best = up.sort((a, b) => a.position - b.position)[0];
    assert.ok(clicked.includes(best.reason ?? ''), `reason of ${best.itemId}: ${best.reason}`);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}

for (const bad of ['missing', 'corrupt'] as const) {
  test(`a ${bad} companions file: a console warning, the model ranks alone, nothing stored is lost`, async () => {
    const { ids, ofKind } = grid('LUNCH BAG');
    const ctx = await env.browser.newContext({ viewport: { width: 1200, height: 900 } });
    const { page, errors, requests } = await watchedPage(ctx);
    const warnings: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    await page.route('**/models/online-retail/companions.bin', (r) =>
      bad === 'missing' ? r.fulfill({ status: 404, body: 'not found' }) : r.fulfill({ body: Buffer.alloc(4000, 7) }),
    );
    await routeShop(page, ids);
    await page.goto(env.url + '/visit-shop.html');
    await page.waitForFunction(() => (window as any).shelfwise?.recommender, null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => (window as any).shelfwise.recommender.ready), true);
    for (const id of ofKind.slice(0, 3)) {
      await page.click(`[data-shelfwise-item="${id}"]`);
      await page.waitForTimeout(300);
    }
    const ranked: Array<{ itemId: string; score: number | null }> = await page.evaluate(
      (all) => new Promise((r) => (window as any).shelfwise('rank', all, r)),
      ids,
    );
    assert.equal(ranked.length, ids.length);
    assert.ok(
      ranked.every((r) => r.score !== null),
      'every known product is scored by the model',
    );
    assert.ok(
      requests.some((u) => u.endsWith('/companions.bin')),
      'the file was asked for',
    );
    assert.ok(
      warnings.some((w) => /visit part did not load, ranking with the model alone/.test(w)),
      warnings.join('\n'),
    );
    const stored = await page.evaluate(async () => (await (window as any).shelfwise.recommender.history()).length);
    assert.equal(stored, 3, 'the three clicks are stored');
    // The browser's own line for the 404 aside.
    assert.deepEqual(
      errors.filter((e) => !/Failed to load resource: .* 404/.test(e)),
      [],
    );
    await ctx.close();
  });
}
