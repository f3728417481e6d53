/**
 * Real shop pages, in Chromium with the script tag (or the ES module where named): a big grid, a
 * single-page shop that replaces its grid on every route, consent withdrawn, links that navigate at once,
 * typos in data-holdout, the script included twice, and a recommender used after dispose().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Page } from 'playwright';
import { chromium } from 'playwright';
import { browserAndServer, CHROMIUM, watchedPage } from './helpers.js';

const env = browserAndServer();

const MODEL = '/e2e/.fixture/model/model.json';
const sku = (i: number) => `SKU-${String((i % 200) + 1).padStart(3, '0')}`;
const STUB = `<script>window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};
window.codes=[];window.ranks=0;addEventListener('shelfwise:error',(e)=>codes.push(e.detail.code));addEventListener('shelfwise:rank',()=>ranks++);</script>`;
const tag = (attrs = '') =>
  `<script async src="/dist/shelfwise.js" data-model="${MODEL}" data-backend="cpu" ${attrs}></script>`;
const cards = (n: number, href = false) =>
  Array.from({ length: n }, (_, i) =>
    href
      ? `<li data-shelfwise-item="${sku(i)}"><a href="/e2e/.fixture/blank.html?p=${i}">${sku(i)}</a></li>`
      : `<li data-shelfwise-item="${sku(i)}">${sku(i)}</li>`,
  ).join('');
const page = (body: string, head = tag()) =>
  `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<style>ul{display:grid;grid-template-columns:repeat(4,1fr);gap:8px;list-style:none;padding:0} li{height:80px;border:1px solid #ccc}</style>
${STUB}${head}</head><body>${body}</body></html>`;

/** Serves `html` at /pages/<name>.html for this context. */
async function at(p: Page, name: string, html: string): Promise<string> {
  await p.route(`**/pages/${name}.html*`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  return `${env.url}/pages/${name}.html`;
}
const ready = (p: Page) =>
  p
    .waitForFunction(() => (window as any).shelfwise?.recommender, null, { timeout: 60_000 })
    .then(() => p.evaluate(() => (window as any).shelfwise.recommender.ready));
const stored = (p: Page) =>
  p.evaluate(
    () =>
      new Promise<any[]>((res) => {
        const r = indexedDB.open('shelfwise');
        r.onsuccess = () => {
          const db = r.result;
          if (!db.objectStoreNames.contains('events')) return res([]);
          const q = db.transaction('events').objectStore('events').getAll();
          q.onsuccess = () => {
            db.close();
            res(q.result);
          };
        };
      }),
  );

test('a 1,000-product grid: a click animates only the products that are seen, not every one that moves', async () => {
  const ctx = await env.browser.newContext({ viewport: { width: 1000, height: 800 } });
  const { page: p, errors } = await watchedPage(ctx);
  await p.goto(await at(p, 'big', page(`<ul data-shelfwise-grid>${cards(1000)}</ul>`)));
  assert.equal(await ready(p), true);
  await p.waitForTimeout(500);
  const moved = await p.evaluate(async () => {
    const grid = document.querySelector('[data-shelfwise-grid]')!;
    const before = Array.from(grid.children, (e) => e.getAttribute('data-shelfwise-item')).join();
    (grid.children[2] as HTMLElement).click();
    const t0 = performance.now();
    while (Array.from(grid.children, (e) => e.getAttribute('data-shelfwise-item')).join() === before) {
      if (performance.now() - t0 > 20_000) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const seen = Array.from(grid.children).filter((e) => {
      const r = e.getBoundingClientRect();
      return r.bottom > 0 && r.top < innerHeight;
    }).length;
    return { animations: document.getAnimations().length, seen, changed: true };
  });
  // The visible rows (about 36 cards) may animate; the ~900 moved off-screen are not.
  assert.ok(moved.animations <= 2 * moved.seen, `animations ${moved.animations}, products seen ${moved.seen}`);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a 1,000-product grid: a click orders the products in reach, the rest as the shopper scrolls to them', async () => {
  const ctx = await env.browser.newContext({ viewport: { width: 1000, height: 800 } });
  const { page: p, errors } = await watchedPage(ctx);
  // 1,000 distinct products the shipped model knows.
  const known = (JSON.parse(fs.readFileSync('models/online-retail/vocab.json', 'utf8')) as { ids: string[] }).ids.slice(
    0,
    1000,
  );
  const grid = known.map((id) => `<li data-shelfwise-item="${id}">${id}</li>`).join('');
  await p.goto(await at(p, 'reach', page(`<ul id="g">${grid}</ul>`, '')));
  await p.evaluate(async (model) => {
    const { createRecommender } = await import('/dist/esm/index.js' as string);
    const rec = await createRecommender({ model, backend: 'cpu' });
    (window as any).ranked = null;
    rec.bindGrid(document.getElementById('g')!, {
      onReorder: (r: Array<{ itemId: string }>) => ((window as any).ranked = r.map((x) => x.itemId)),
    });
    await new Promise((r) => setTimeout(r, 300));
  }, '/models/online-retail/model.json');
  // Slots [a, b): the products below the viewport there, as rank positions (increasing = in ranked order).
  const ranks = (a: number, b: number) =>
    p.evaluate(
      ([a, b]) => {
        const at = new Map<string, number>(((window as any).ranked as string[]).map((id, i) => [id, i]));
        return Array.from(document.getElementById('g')!.children)
          .slice(a, b)
          .map((e) => at.get(e.getAttribute('data-shelfwise-item')!)!);
      },
      [a, b],
    );
  const increasing = (r: number[]) => r.every((x, i) => i === 0 || x > r[i - 1]);
  const ids = () => p.evaluate(() => Array.from(document.getElementById('g')!.children, (e) => e.id || e.textContent));
  await p.click('#g > li:nth-child(3)');
  await p.waitForTimeout(1500);
  const beforeScroll = await ids();
  // Just below the viewport (about 40 products are seen): the ranking; far below: untouched so far.
  assert.ok(increasing(await ranks(60, 100)), 'slots 60-99 follow the ranking after the click');
  assert.ok(!increasing(await ranks(600, 700)), 'slots 600-699 are not reordered yet');
  // The shopper scrolls to product 600: the products now in reach take the ranking, those seen stay.
  await p.evaluate(() => document.getElementById('g')!.children[600].scrollIntoView());
  const seenBefore = await p.evaluate(() =>
    Array.from(document.getElementById('g')!.children)
      .slice(590, 640)
      .map((e) => e.textContent),
  );
  await p.waitForTimeout(800);
  assert.ok(increasing(await ranks(650, 690)), 'slots 650-689 follow the ranking after scrolling there');
  const seenAfter = await p.evaluate(() =>
    Array.from(document.getElementById('g')!.children)
      .slice(590, 640)
      .map((e) => e.textContent),
  );
  assert.notDeepEqual(await ids(), beforeScroll);
  // What the viewport showed (rows around product 600) did not move under the shopper's eyes.
  const stayed = seenBefore.filter((t, i) => seenAfter[i] === t).length;
  assert.ok(stayed >= 30, `products in view that stayed: ${stayed} of 50`);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a single-page shop that replaces its grid on 50 route changes: one ranking per click, old grids unbound', async () => {
  const ctx = await env.browser.newContext();
  const { page: p, errors } = await watchedPage(ctx);
  // Counts the page's live MutationObservers and its window/document listeners (added minus removed).
  await p.addInitScript(() => {
    const w = window as any;
    w.live = { observers: new Set(), listeners: 0 };
    const proto = MutationObserver.prototype as any;
    const observe = proto.observe as (...a: unknown[]) => void,
      disconnect = proto.disconnect as () => void;
    proto.observe = function (this: MutationObserver, ...a: unknown[]) {
      w.live.observers.add(this);
      return observe.apply(this, a);
    };
    proto.disconnect = function (this: MutationObserver) {
      w.live.observers.delete(this);
      return disconnect.apply(this);
    };
    // A listener is its target, type, function and capture flag (as the browser counts them).
    const key = new Map<unknown, number>();
    const id = (x: unknown) => (key.has(x) ? key.get(x)! : (key.set(x, key.size), key.size - 1));
    const name = (t: EventTarget, a: [string, unknown, unknown?]) =>
      `${t === window ? 'w' : 'd'}:${a[0]}:${id(a[1])}:${typeof a[2] === 'boolean' ? a[2] : !!(a[2] as any)?.capture}`;
    w.live.listeners = new Set<string>();
    for (const target of [window, document] as EventTarget[]) {
      const add = target.addEventListener.bind(target),
        remove = target.removeEventListener.bind(target);
      target.addEventListener = (...a: Parameters<EventTarget['addEventListener']>) => {
        if (!(typeof a[2] === 'object' && a[2]?.once)) w.live.listeners.add(name(target, a));
        return add(...a);
      };
      target.removeEventListener = (...a: Parameters<EventTarget['removeEventListener']>) => {
        w.live.listeners.delete(name(target, a));
        return remove(...a);
      };
    }
  });
  const live = () =>
    p.evaluate(() => ({
      observers: (window as any).live.observers.size as number,
      listeners: (window as any).live.listeners.size as number,
    }));
  await p.goto(await at(p, 'spa', page(`<main id="app"><ul data-shelfwise-grid>${cards(24)}</ul></main>`)));
  assert.equal(await ready(p), true);
  let first: { observers: number; listeners: number } | null = null;
  for (let r = 0; r < 50; r++) {
    await p.evaluate((r) => {
      // The router renders the next route: a new grid element replaces the old one.
      const ids = Array.from({ length: 24 }, (_, i) => `SKU-${String(((i + r) % 200) + 1).padStart(3, '0')}`);
      document.getElementById('app')!.innerHTML =
        `<ul data-shelfwise-grid>${ids.map((id) => `<li data-shelfwise-item="${id}">${id}</li>`).join('')}</ul>`;
    }, r);
    await p.waitForTimeout(20);
    if (r === 0) {
      await p.waitForTimeout(300);
      first = await live();
    }
  }
  await p.waitForTimeout(500);
  assert.deepEqual(await live(), first, 'observers and listeners after 50 routes as after the first');
  const before = await p.evaluate(() => (window as any).ranks);
  await p.click('[data-shelfwise-grid] > li:nth-child(3)');
  await p.waitForTimeout(1500);
  const after = await p.evaluate(() => (window as any).ranks);
  assert.equal(after - before, 1, `rankings for one click after 50 route changes: ${after - before}`);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('forget() with consent withdrawn erases what earlier pages stored, the experiment draw included', async () => {
  const ctx = await env.browser.newContext();
  const { page: p, errors } = await watchedPage(ctx);
  const body = `<ul data-shelfwise-grid>${cards(8)}</ul>`;
  await p.goto(await at(p, 'consent', page(body, tag('data-experiment="exp" data-holdout="0.5"'))));
  // The shopper's arm is drawn at random (ready is false in control, where no model loads): both arms record.
  assert.equal(typeof (await ready(p)), 'boolean');
  for (const i of [1, 2, 3])
    await p.evaluate((id) => (window as any).shelfwise.recommender.track({ type: 'view', itemId: id }), sku(i));
  assert.equal((await stored(p)).length, 3);
  // The shopper withdraws consent: the shop renders with data-consent="false" and calls forget().
  await p.goto(
    await at(p, 'withdrawn', page(body, tag('data-consent="false" data-experiment="exp" data-holdout="0.5"'))),
  );
  await ready(p);
  const forgot = await p.evaluate(
    () =>
      new Promise<string>((r) => {
        (window as any).shelfwise('forget', (e?: Error) => r(e ? e.message : 'ok'));
      }),
  );
  assert.equal(forgot, 'ok');
  const left = await stored(p);
  assert.deepEqual(left, [], `events left after forget(): ${JSON.stringify(left)}`);
  const kv = await p.evaluate(
    () =>
      new Promise<number>((res) => {
        const r = indexedDB.open('shelfwise');
        r.onsuccess = () => {
          const q = r.result.transaction('kv').objectStore('kv').count();
          q.onsuccess = () => {
            r.result.close();
            res(q.result);
          };
        };
      }),
  );
  assert.equal(kv, 0, 'the experiment id is erased');
  assert.deepEqual(errors, [], `page errors: ${errors.join(' | ')}`);
  await ctx.close();
});

test('links that open the next page at once: at least 9 of 10 clicks are stored, on each navigation kind', async () => {
  const ctx = await env.browser.newContext();
  const { page: p } = await watchedPage(ctx);
  // Each product opens the next page at once (about:blank: no network in between): a link, a form submit,
  // a script navigation. The next page with the tag stores what the list pages could not finish.
  const grid = `<ul data-shelfwise-grid>${Array.from(
    { length: 30 },
    (_, i) =>
      `<li data-shelfwise-item="${sku(i)}">${
        i % 3 === 0
          ? `<a id="p${i}" href="about:blank">${sku(i)}</a>`
          : i % 3 === 1
            ? `<form action="about:blank" method="get"><button id="p${i}">${sku(i)}</button></form>`
            : `<span id="p${i}" onclick="location.href='about:blank'">${sku(i)}</span>`
      }</li>`,
  ).join('')}</ul>`;
  const list = await at(p, 'list', page(grid));
  const clicked: string[] = [];
  for (let round = 0; round < 30; round++) {
    await p.goto(list);
    await ready(p);
    await p.waitForTimeout(300);
    clicked.push(sku(round));
    await Promise.all([p.waitForURL(/about:blank/), p.click(`#p${round}`)]);
  }
  await p.goto(list);
  await ready(p);
  await p.waitForTimeout(3500);
  const got = (await stored(p)).filter((e) => e.type === 'click').map((e) => e.itemId);
  // Product i navigates by kind i % 3: a link, a form, a script.
  const kept = [0, 1, 2].map((k) => clicked.filter((id, i) => i % 3 === k && got.includes(id)).length);
  console.log(`clicks stored of 10, by link / form / script: ${kept.join(' / ')}`);
  for (const [k, n] of kept.entries())
    assert.ok(n >= 9, `${['link', 'form', 'script'][k]} clicks stored: ${n} of 10 (${got.join(', ')})`);
  assert.equal(got.length, new Set(got).size, `no click stored twice: ${got.join(', ')}`);
  await ctx.close();
});

test('data-holdout typos: "20%" is a share; "abc", "" and -1 run personalized without the experiment, reported once', async () => {
  const ctx = await env.browser.newContext();
  const { page: p } = await watchedPage(ctx);
  const warnings: string[] = [];
  p.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  const body = `<ul data-shelfwise-grid>${cards(8)}</ul>`;
  await p.goto(await at(p, 'pct', page(body, tag('data-experiment="e" data-holdout="20%"'))));
  await ready(p);
  assert.equal((await p.evaluate(() => (window as any).shelfwise.recommender.experiment)).name, 'e');
  for (const h of ['abc', '', '-1']) {
    warnings.length = 0;
    await p.goto(await at(p, `h${h || 'empty'}`, page(body, tag(`data-experiment="e" data-holdout="${h}"`))));
    assert.equal(await ready(p), true, `holdout "${h}": the model runs`);
    await p.evaluate((id) => (window as any).shelfwise.recommender.track({ type: 'click', itemId: id }), sku(1));
    const r = await p.evaluate(() => ({
      exp: (window as any).shelfwise.recommender.experiment,
      codes: (window as any).codes,
      ranks: (window as any).ranks,
    }));
    assert.equal(r.exp, null);
    assert.deepEqual(r.codes, ['invalid_options']);
    assert.ok(r.ranks > 0, 'the grid is personalized');
    assert.equal(warnings.filter((w) => w.includes('data-holdout')).length, 1, `warned once: ${warnings.join(' | ')}`);
  }
  await ctx.close();
});

test('a heavy page whose load comes at 3 s: a grid with a hold shows its first ranking before load, no model_not_ready', async () => {
  const ctx = await env.browser.newContext();
  const { page: p, errors } = await watchedPage(ctx);
  // An image that takes 3 s holds the page's load event back.
  await p.route('**/slow.png', async (r) => {
    await new Promise((res) => setTimeout(res, 3000));
    await r.fulfill({ contentType: 'image/png', body: Buffer.alloc(0) });
  });
  const body = `<ul data-shelfwise-grid data-shelfwise-hold="2500">${cards(12)}</ul><img src="/slow.png" alt="">`;
  const head = `<script>window.loadAt=0;addEventListener('load',()=>loadAt=performance.now());
new MutationObserver(()=>{const g=document.querySelector('[data-shelfwise-grid]');if(g&&g.hasAttribute('data-shelfwise-ready')&&!window.shownAt)window.shownAt=performance.now();}).observe(document,{subtree:true,attributes:true,attributeFilter:['data-shelfwise-ready']});</script>${tag()}`;
  await p.goto(await at(p, 'heavy', page(body, head)), { waitUntil: 'commit' });
  await p.waitForFunction(() => (window as any).loadAt > 0, null, { timeout: 20_000 });
  const t = await p.evaluate(() => ({
    shown: (window as any).shownAt as number,
    load: (window as any).loadAt as number,
    ranks: (window as any).ranks as number,
    codes: (window as any).codes as string[],
  }));
  assert.ok(t.shown > 0 && t.shown < t.load, `grid shown at ${t.shown} ms, load at ${t.load} ms`);
  assert.ok(t.ranks >= 1, 'a ranking was applied');
  assert.ok(!t.codes.includes('model_not_ready'), `codes: ${t.codes.join()}`);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('the script included twice runs once: one model download, one recommender, each GA4 event stored once', async () => {
  const ctx = await env.browser.newContext();
  const { page: p, requests, errors } = await watchedPage(ctx);
  const html = page(`<ul data-shelfwise-grid>${cards(8)}</ul>`, `<script>window.dataLayer=[]</script>${tag()}${tag()}`);
  await p.goto(await at(p, 'twice', html));
  assert.equal(await ready(p), true);
  await p.evaluate(
    (id) => (window as any).dataLayer.push({ event: 'view_item', ecommerce: { items: [{ item_id: id }] } }),
    sku(3),
  );
  await p.waitForTimeout(1000);
  assert.equal(requests.filter((u) => u.endsWith('/model.json')).length, 1);
  assert.equal((await stored(p)).filter((e) => e.itemId === sku(3)).length, 1);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('after dispose(): track, forget and bindGrid fail with code disposed; rank returns the merchant order', async () => {
  const ctx = await env.browser.newContext();
  const { page: p, errors } = await watchedPage(ctx);
  await p.goto(env.url + '/e2e/.fixture/blank.html');
  const r = await p.evaluate(async (MODEL) => {
    const { createRecommender } = await import('/dist/esm/index.js' as string);
    const rec = await createRecommender({ model: MODEL, backend: 'cpu', consent: false });
    await rec.ready;
    rec.dispose();
    const code = (f: () => unknown) =>
      Promise.resolve()
        .then(f)
        .then(
          () => 'resolved',
          (e: any) => e.code,
        );
    return {
      track: await code(() => rec.track({ type: 'view', itemId: 'SKU-001' })),
      forget: await code(() => rec.forget()),
      bind: await code(() => rec.bindGrid(document.body)),
      ranked: (await rec.rank(['SKU-002', 'SKU-001'])).map((x: any) => x.itemId),
    };
  }, MODEL);
  assert.deepEqual(r, { track: 'disposed', forget: 'disposed', bind: 'disposed', ranked: ['SKU-002', 'SKU-001'] });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('markup edge cases: a promo tile keeps its slot, a duplicate id keeps its slot and the rest follows the ranking, a grid bound twice records a click once', async () => {
  const ctx = await env.browser.newContext();
  const { page: p, errors } = await watchedPage(ctx);
  const items = Array.from({ length: 24 }, (_, i) => `<li data-shelfwise-item="${sku(i)}">${sku(i)}</li>`);
  items.splice(5, 0, '<li class="promo">promo</li>');
  items.splice(15, 0, `<li data-shelfwise-item="${sku(2)}" class="dup">${sku(2)} again</li>`);
  const html = page(`<ul data-shelfwise-grid data-shelfwise-reorder="immediate">${items.join('')}</ul>`);
  await p.goto(await at(p, 'markup', html));
  assert.equal(await ready(p), true);
  await p.waitForTimeout(500);
  const layout = () =>
    p.$$eval('[data-shelfwise-grid] > li', (els) =>
      els.map((e) =>
        e.classList.contains('promo')
          ? 'promo'
          : e.classList.contains('dup')
            ? 'dup'
            : e.getAttribute('data-shelfwise-item'),
      ),
    );
  const start = await layout();
  assert.equal(start.indexOf('promo'), 5);
  assert.equal(start.indexOf('dup'), 15, "a new shopper's grid keeps the duplicate where the merchant put it");
  for (const k of [3, 9, 12]) {
    await p.click(`[data-shelfwise-grid] > li[data-shelfwise-item="${sku(k)}"]:not(.dup)`);
    await p.waitForTimeout(400);
    const now = await layout();
    assert.equal(now.indexOf('promo'), 5, `promo tile after clicking ${sku(k)}: ${now.join(' ')}`);
    assert.equal(now.indexOf('dup'), 15, `duplicate after clicking ${sku(k)}`);
  }
  // The products (first elements) are in the ranking's order.
  const ranked = await p.evaluate(
    (ids) =>
      new Promise<string[]>((r) => (window as any).shelfwise('rank', ids, (x: any[]) => r(x.map((y) => y.itemId)))),
    Array.from({ length: 24 }, (_, i) => sku(i)),
  );
  assert.deepEqual(
    (await layout()).filter((x) => x !== 'promo' && x !== 'dup'),
    ranked,
  );
  // bindGrid on the grid the tag already bound: the same binding, one event per click.
  const n = await p.evaluate(async (id) => {
    const rec = (window as any).shelfwise.recommender;
    const grid = document.querySelector('[data-shelfwise-grid]')!;
    rec.bindGrid(grid);
    const before = (await rec.history()).length;
    (grid.querySelector(`[data-shelfwise-item="${id}"]`) as HTMLElement).click();
    await new Promise((r) => setTimeout(r, 500));
    return (await rec.history()).length - before;
  }, sku(7));
  assert.equal(n, 1);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test("a product's content in the markup (title, category, brand, price) is stored with its click and its cart action", async () => {
  const ctx = await env.browser.newContext();
  const { page: p, errors } = await watchedPage(ctx);
  const card = (i: number, attrs: string) =>
    `<li data-shelfwise-item="${sku(i)}" ${attrs}>${sku(i)} <button data-shelfwise-action="add_to_cart">add</button></li>`;
  const html = page(
    `<ul data-shelfwise-grid>${card(0, 'data-shelfwise-title="Lunch bag red spotty" data-shelfwise-category="Bags > Lunch" data-shelfwise-brand="Regency" data-shelfwise-price="1.65"')}${card(1, 'data-shelfwise-title="Door mat" data-shelfwise-price="£7.95"')}${card(2, '')}</ul>`,
  );
  await p.goto(await at(p, 'content', html));
  assert.equal(await ready(p), true);
  await p.click(`li[data-shelfwise-item="${sku(0)}"]`, { position: { x: 2, y: 2 } });
  await p.click(`li[data-shelfwise-item="${sku(1)}"] button`);
  await p.click(`li[data-shelfwise-item="${sku(2)}"]`, { position: { x: 2, y: 2 } });
  await p.waitForFunction(async () => (await (window as any).shelfwise.recommender.history()).length >= 3);
  const events = (await stored(p)).map((e) => [e.type, e.itemId, e.content]);
  assert.deepEqual(events, [
    ['click', sku(0), { title: 'Lunch bag red spotty', category: 'Bags > Lunch', brand: 'Regency', price: 1.65 }],
    // A price that is not a plain number is left out; the click is kept.
    ['add_to_cart', sku(1), { title: 'Door mat' }],
    ['click', sku(2), undefined],
  ]);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test("another tab's events do not evict a page from the back/forward cache", async () => {
  // Playwright turns the back/forward cache off by default; this browser keeps it on.
  const { chromium } = await import('playwright');
  const { CHROMIUM } = await import('./helpers.js');
  const b = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    ignoreDefaultArgs: ['--disable-back-forward-cache'],
  });
  try {
    const ctx = await b.newContext();
    const p = await ctx.newPage();
    const other = await ctx.newPage();
    await p.route('**/pages/*.html*', (r) =>
      r.fulfill({ contentType: 'text/html', body: page(`<ul data-shelfwise-grid>${cards(8)}</ul>`) }),
    );
    await other.route('**/pages/*.html*', (r) =>
      r.fulfill({ contentType: 'text/html', body: page(`<ul data-shelfwise-grid>${cards(8)}</ul>`) }),
    );
    await p.goto(`${env.url}/pages/a.html`);
    assert.equal(await ready(p), true);
    await p.evaluate(() => ((window as any).mark = 42));
    await p.goto(`${env.url}/e2e/.fixture/blank.html`);
    await other.goto(`${env.url}/pages/b.html`);
    await ready(other);
    for (const i of [1, 2, 3])
      await other.evaluate((id) => (window as any).shelfwise.recommender.track({ type: 'view', itemId: id }), sku(i));
    await other.waitForTimeout(300);
    await p.goBack({ waitUntil: 'commit' });
    await p.waitForTimeout(500);
    assert.equal(
      await p.evaluate(() => (window as any).mark),
      42,
      'restored from the back/forward cache, not reloaded',
    );
    // Back from the cache, the page ranks with the other tab's events.
    const h = await p.evaluate(async () => (await (window as any).shelfwise.recommender.history()).length);
    assert.equal(h, 3);
    await ctx.close();
  } finally {
    await b.close();
  }
});

test('a browser without a WebGPU adapter: auto starts on another backend without tfjs warnings, and asks once per session', async () => {
  // Chromium without the WebGPU flags: navigator.gpu exists, requestAdapter() answers null.
  const bare = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const p = await bare.newPage();
    const warnings: string[] = [];
    p.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
    const body = `<ul data-shelfwise-grid>${cards(8)}</ul>`;
    const url = await at(p, 'nogpu', page(body, tag().replace('data-backend="cpu"', 'data-backend="auto"')));
    for (let i = 0; i < 2; i++) {
      await p.goto(url);
      assert.equal(await ready(p), true);
    }
    const rec = await p.evaluate(() => ({
      backend: (window as any).shelfwise.recommender.backend as string,
      reason: (window as any).shelfwise.recommender.runtime?.backendReason as string,
    }));
    assert.notEqual(rec.backend, 'webgpu');
    assert.match(rec.reason, /no WebGPU adapter/);
    assert.deepEqual(
      warnings.filter((w) => /backend|webgpu|features/i.test(w)),
      [],
      `tfjs warnings: ${warnings.join(' | ')}`,
    );
    // The browser's own "No available adapters." once, on the first page only.
    assert.ok(warnings.filter((w) => /No available adapters/.test(w)).length <= 1, warnings.join(' | '));
  } finally {
    await bare.close();
  }
});
