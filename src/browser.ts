/**
 * The script-tag entry (dist/shelfwise.js):
 *   <script>window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};</script>
 *   <script async src="/shelfwise/shelfwise.js" data-model="/models/online-retail/model.json"></script>
 * Commands: shelfwise('track', event), shelfwise('rank', ids, callback), shelfwise('forget'),
 * shelfwise('options', {blend, rules}), shelfwise('ready', callback(recommender)).
 * data-finetune="true" turns on on-device fine-tuning (in a worker); data-backend, data-blend, data-consent.
 * With data-model it binds every [data-shelfwise-grid] on the page (and grids added later), and records
 * GA4 dataLayer e-commerce events and Segment `analytics` track calls.
 */
import { createRecommenderWith, type Recommender, type RecommenderOptions } from './core.js';
import { isCommerceEvent } from './events/index.js';

type Cmd = [string, ...unknown[]];
interface Stub { (...a: unknown[]): void; q?: ArrayLike<unknown>[]; recommender?: Recommender }

(() => {
  const w = window as unknown as { shelfwise?: Stub; dataLayer?: unknown[]; analytics?: { on?: (ev: string, cb: (...a: unknown[]) => void) => void } };
  const script = document.currentScript as HTMLScriptElement | null;
  const base = new URL('.', script?.src || location.href).href;
  const ds = script?.dataset ?? {};
  const pending: Cmd[] = Array.from(w.shelfwise?.q ?? [], (a) => Array.from(a) as Cmd);
  let rec: Recommender | null = null;
  const waiters: Cmd[] = [];
  const warnOnce = new Set<string>();
  const warn = (m: string) => { if (!warnOnce.has(m)) { warnOnce.add(m); console.warn('[shelfwise] ' + m); } };

  const exec = (c: Cmd) => {
    if (!rec) { waiters.push(c); return; }
    const [name, ...args] = c;
    try {
      if (name === 'track') rec.track(args[0]).catch(() => {});
      else if (name === 'rank') rec.rank(args[0] as string[], args[2] as object).then((r) => (args[1] as (r: unknown) => void)?.(r)).catch(() => {});
      else if (name === 'forget') rec.forget().then(() => (args[0] as (() => void) | undefined)?.());
      else if (name === 'options') rec.setOptions(args[0] as object);
      else if (name === 'ready') rec.ready.then(() => (args[0] as (r: Recommender) => void)(rec!));
      else warn(`unknown command "${String(name)}"`);
    } catch (e) { warn(String((e as Error)?.message ?? e)); }
  };
  const api: Stub = (...a: unknown[]) => exec(a as Cmd);
  w.shelfwise = api;

  const model = ds.model;
  if (!model) { warn('no data-model on the script tag; call shelfwise("init", {model}) to start'); }
  const init = (opts: Partial<RecommenderOptions>) => {
    createRecommenderWith(() => import(/* runtime chunk, lazily */ base + 'esm/runtime.js'), {
      model: model ?? '', backend: (ds.backend as RecommenderOptions['backend']) ?? 'auto',
      blend: ds.blend !== undefined ? Number(ds.blend) : undefined, consent: ds.consent !== 'false', finetune: ds.finetune === 'true',
      wasmPaths: base + 'esm/',
      onError: (e) => window.dispatchEvent(new CustomEvent('shelfwise:error', { detail: e })),
      onRank: (info) => window.dispatchEvent(new CustomEvent('shelfwise:rank', { detail: info })),
      onFinetune: (info) => window.dispatchEvent(new CustomEvent('shelfwise:finetune', { detail: info })),
      ...opts,
    }).then((r) => {
      rec = r;
      api.recommender = r;
      const bind = (root: ParentNode) => root.querySelectorAll?.('[data-shelfwise-grid]').forEach((g) => {
        if ((g as { __sw?: boolean }).__sw) return;
        (g as { __sw?: boolean }).__sw = true;
        r.bindGrid(g, { reorder: (g.getAttribute('data-shelfwise-reorder') as 'immediate' | null) ?? undefined });
      });
      bind(document);
      new MutationObserver((rs) => rs.forEach((m) => m.addedNodes.forEach((n) => n instanceof Element && (n.matches('[data-shelfwise-grid]') ? bind(n.parentNode ?? document) : bind(n))))).observe(document.documentElement, { childList: true, subtree: true });
      // GA4: every e-commerce event already on the dataLayer and every later push.
      const dl = (w.dataLayer = w.dataLayer ?? []);
      const take = (x: unknown) => { if (x && typeof x === 'object' && isCommerceEvent((x as { event?: unknown }).event)) r.track(x).catch(() => {}); };
      dl.forEach(take);
      const push = dl.push.bind(dl);
      dl.push = (...items: unknown[]) => { const n = push(...items); items.forEach(take); return n; };
      // Segment analytics.js
      w.analytics?.on?.('track', (event: unknown, properties: unknown) => { if (isCommerceEvent(event)) r.track({ event, properties }).catch(() => {}); });
      for (const c of [...pending, ...waiters.splice(0)]) exec(c);
      window.dispatchEvent(new CustomEvent('shelfwise:ready', { detail: r }));
    }, (e) => warn(String((e as Error)?.message ?? e)));
  };
  if (model) init({});
  else {
    // Queue 'init' support for pages that set options in code.
    const initIdx = pending.findIndex((c) => c[0] === 'init');
    if (initIdx >= 0) { const [c] = pending.splice(initIdx, 1); init(c[1] as Partial<RecommenderOptions>); }
  }
})();
