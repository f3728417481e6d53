/**
 * A catalog too large to download: the shipped model as a sharded item directory (scripts/fixture.ts: a head
 * of 200 popular products, 8 products per shard). The page loads the weights and the head, never the
 * vocabulary, and fetches the shards of the products its grid shows and the shopper clicks, once each, and the
 * visit part's companions of the clicked products only. After three lunch-bag clicks it ranks the grid as the
 * same model with its whole item table and companions file does.
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

const lunch = catalog.ids.filter((_, i) => catalog.titles[i]?.includes('LUNCH BAG')).slice(0, 8);
const grid = [...new Set([...lunch, ...catalog.ids.slice(600, 640)])];
const clicked = lunch.slice(0, 3);

async function shop(page: Page, model: string): Promise<void> {
  const cards = grid.map((id) => `<li data-shelfwise-item="${id}">${id}</li>`).join('');
  await page.route('**/sharded-shop.html', (r) =>
    r.fulfill({ contentType: 'text/html', body: gridPage(cards, model) }),
  );
  await page.goto(env.url + '/sharded-shop.html');
  await page.waitForFunction(() => (window as any).shelfwise?.recommender, null, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => (window as any).shelfwise.recommender.ready), true);
  for (const id of clicked) {
    await page.click(`[data-shelfwise-item="${id}"]`);
    await page.waitForTimeout(300);
  }
}

type Row = { itemId: string; position: number; score: number | null; reason: string | null };
const rank = (page: Page): Promise<Row[]> =>
  page.evaluate((ids) => (window as any).shelfwise.recommender.rank(ids), grid);

test('the pointer on a product fetches its companions before the click: the click waits for no shard', async () => {
  const ctx = await env.browser.newContext({ viewport: { width: 1200, height: 900 } });
  const { page, errors, requests } = await watchedPage(ctx);
  await shop(page, '/e2e/.fixture/sharded-model/model.json');
  const companions = () => requests.filter((u) => /sharded-model\/companions\/\d+\.bin/.test(u)).length;
  // A product whose companions shard no click fetched yet.
  const next = grid.find((id) => !clicked.includes(id) && id !== lunch[5])!;
  const before = companions();
  await page.hover(`[data-shelfwise-item="${next}"]`);
  await page.waitForFunction(
    (n) =>
      performance.getEntriesByType('resource').filter((e) => /sharded-model\/companions\/\d+\.bin/.test(e.name))
        .length > n,
    before,
    { timeout: 10_000 },
  );
  const hovered = companions();
  assert.ok(hovered > before, 'the hover fetched a companions shard');
  await page.click(`[data-shelfwise-item="${next}"]`);
  await page.waitForFunction(
    (id) => (window as any).shelfwise.recommender.history().then((h: any[]) => h.some((e) => e.itemId === id)),
    next,
  );
  await rank(page);
  assert.equal(companions(), hovered, 'the click fetched nothing more');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a sharded model fetches only its grid’s shards and ranks as the model with the whole item table does', async () => {
  const ctx = await env.browser.newContext({ viewport: { width: 1200, height: 900 } });
  const { page, errors, requests } = await watchedPage(ctx);
  await shop(page, '/e2e/.fixture/sharded-model/model.json');
  const sharded = await rank(page);
  assert.ok(
    sharded.every((r) => r.score !== null),
    'every product of the grid is scored',
  );
  const other = sharded.find((r) => r.itemId === lunch[5])!;
  assert.ok(clicked.includes(other.reason ?? ''), `an unclicked lunch bag's reason: ${other.reason}`);
  assert.ok(!requests.some((u) => u.includes('sharded-model/vocab.json')), 'the vocabulary is never downloaded');
  assert.ok(requests.some((u) => u.includes('sharded-model/items/head.bin')));
  const shards = requests.filter((u) => /sharded-model\/items\/\d+\.bin/.test(u));
  assert.ok(
    shards.length > 0 && shards.length <= grid.length,
    `${shards.length} shard requests for ${grid.length} products`,
  );
  assert.equal(new Set(shards).size, shards.length, 'no shard is fetched twice');
  // The visit part: the companions of the session's products only (three clicks, each shard once).
  const companions = requests.filter((u) => /sharded-model\/companions\/\d+\.bin/.test(u));
  assert.ok(companions.length >= 1 && companions.length <= clicked.length, `${companions.length} companion shards`);
  assert.equal(new Set(companions).size, companions.length);
  // Ranked again, and after a reload (files in the Cache API): no more shard requests over the network.
  await rank(page);
  assert.equal(requests.filter((u) => /items\/\d+\.bin/.test(u)).length, shards.length);
  const bytes = await page.evaluate(() =>
    (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
      .filter((e) => /items\/\d+\.bin/.test(e.name))
      .reduce((n, e) => n + e.encodedBodySize, 0),
  );
  assert.ok(bytes < 50_000, `the grid's shards: ${bytes} bytes`);

  // The same shop and clicks with the shipped model (its whole item table): the same top of the grid.
  const ctx2 = await env.browser.newContext({ viewport: { width: 1200, height: 900 } });
  const w2 = await watchedPage(ctx2);
  await shop(w2.page, '/models/online-retail/model.json');
  const table = await rank(w2.page);
  const top = (rs: Row[]) => rs.slice(0, 10).map((r) => r.itemId);
  const overlap = top(sharded).filter((id) => top(table).includes(id)).length;
  assert.ok(overlap >= 8, `top 10 in common: ${overlap} (${top(sharded).join()} / ${top(table).join()})`);
  assert.deepEqual([...errors, ...w2.errors], []);
  await ctx.close();
  await ctx2.close();
});
