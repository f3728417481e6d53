/**
 * Products the model never saw, ranked from their content: a shop page whose grid holds two products added
 * after training (their ids unknown to the model, their titles in `data-shelfwise-title`). A new shopper
 * clicks three lunch bags: both new products are scored, the new lunch bag above the new door mat, naming
 * a clicked lunch bag as its reason. The model here is the shipped one with a content part made for
 * the test (scripts/fixture.ts); without a content part the new products keep `unknownPrior`'s place.
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

const NEW = [
  { id: 'NEW-LUNCH', title: 'LUNCH BAG VINTAGE DOILY', price: 1.65 },
  { id: 'NEW-MAT', title: 'DOORMAT VINTAGE LEAF', price: 7.95 },
];
const lunch = catalog.ids.filter((_, i) => catalog.titles[i]?.includes('LUNCH BAG')).slice(0, 3);
const known = [...new Set([...catalog.ids.slice(0, 44), ...lunch])];

async function shop(page: Page, model: string): Promise<void> {
  const title = (id: string) => catalog.titles[catalog.ids.indexOf(id)] ?? '';
  const cards = [
    ...known.map((id) => `<li data-shelfwise-item="${id}" data-shelfwise-title="${title(id)}">${id}</li>`),
    ...NEW.map(
      (p) =>
        `<li data-shelfwise-item="${p.id}" data-shelfwise-title="${p.title}" data-shelfwise-price="${p.price}">${p.id}</li>`,
    ),
  ].join('');
  await page.route('**/content-shop.html', (r) =>
    r.fulfill({
      contentType: 'text/html',
      body: gridPage(cards, model),
    }),
  );
  await page.goto(env.url + '/content-shop.html');
  await page.waitForFunction(() => (window as any).shelfwise?.recommender, null, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => (window as any).shelfwise.recommender.ready), true);
  for (const id of lunch) {
    await page.click(`[data-shelfwise-item="${id}"]`);
    await page.waitForTimeout(400);
  }
}

type Row = { itemId: string; position: number; defaultPosition: number; score: number | null; reason: string | null };
const rank = (page: Page): Promise<Row[]> =>
  page.evaluate(
    (cands) => (window as any).shelfwise.recommender.rank(cands),
    [...known.map((id) => ({ id })), ...NEW.map((p) => ({ id: p.id, content: { title: p.title, price: p.price } }))],
  );

test('a product added after training is ranked from its content: after clicks on lunch bags a new lunch bag goes above a new door mat', async () => {
  const ctx = await env.browser.newContext({ viewport: { width: 1200, height: 900 } });
  const { page, errors, requests } = await watchedPage(ctx);
  await shop(page, '/e2e/.fixture/content-model/model.json');
  const ranked = await rank(page);
  const [bag, mat] = NEW.map((p) => ranked.find((r) => r.itemId === p.id)!);
  assert.ok(bag.score !== null && mat.score !== null, 'both new products are scored');
  assert.ok(bag.position < mat.position, `new lunch bag ${bag.position}, new door mat ${mat.position}`);
  assert.ok(lunch.includes(bag.reason ?? ''), `its reason: ${bag.reason}`);
  // The grid itself reads the titles from the markup: the same order.
  const dom = await page.$$eval('[data-shelfwise-grid] > li', (els) =>
    els.map((e) => e.getAttribute('data-shelfwise-item')),
  );
  assert.ok(
    dom.indexOf('NEW-LUNCH') < dom.indexOf('NEW-MAT'),
    `grid: ${dom.indexOf('NEW-LUNCH')} / ${dom.indexOf('NEW-MAT')}`,
  );
  assert.ok(
    requests.some((u) => u.endsWith('/content-model/content.bin')),
    'content.bin is fetched once a product needs it',
  );
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('without a content part, or with a corrupt one, new products keep their place (a warning), the rest is ranked', async () => {
  for (const [model, corrupt] of [
    ['/models/online-retail/model.json', false],
    ['/e2e/.fixture/content-model/model.json', true],
  ] as const) {
    const ctx = await env.browser.newContext({ viewport: { width: 1200, height: 900 } });
    const { page, errors } = await watchedPage(ctx);
    const warnings: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    if (corrupt) await page.route('**/content-model/content.bin', (r) => r.fulfill({ body: Buffer.alloc(1000, 3) }));
    await shop(page, model);
    const ranked = await rank(page);
    assert.ok(
      NEW.every((p) => ranked.find((r) => r.itemId === p.id)!.score === null),
      'new products unscored',
    );
    assert.ok(
      ranked.filter((r) => known.includes(r.itemId)).every((r) => r.score !== null),
      'known products scored',
    );
    if (corrupt)
      assert.ok(
        warnings.some((w) => /content part did not load/.test(w)),
        warnings.join('\n'),
      );
    assert.deepEqual(errors, []);
    await ctx.close();
  }
});
