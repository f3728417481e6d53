/**
 * The script-tag entry (dist/shelfwise.js):
 *   <script>window.shelfwise=window.shelfwise||function(){(shelfwise.q=shelfwise.q||[]).push(arguments)};</script>
 *   <script async src="/shelfwise/shelfwise.js" data-model="/models/online-retail/model.json"></script>
 * Commands (typed in `Commands`): shelfwise('track', event), shelfwise('rank', ids, callback),
 * shelfwise('forget', callback), shelfwise('options', {blend, rules}), shelfwise('ready', callback(recommender)),
 * shelfwise('init', options) (for pages that start it from code, before or after this file loads).
 * data-finetune="true" turns on on-device fine-tuning (in a worker); data-backend, data-blend, data-consent.
 * With a model it binds every [data-shelfwise-grid] on the page (and grids added later), and records
 * GA4 dataLayer e-commerce events and Segment `analytics` track calls.
 */
import { createRecommenderWith } from './core.js';
import type { Recommender, RecommenderOptions } from './recommender/index.js';
import type { Candidate, RankOptions, Ranked } from './rank/index.js';
import { isCommerceEvent, ShelfwiseError, type TrackInput } from './events/index.js';
import { hookAnalytics } from './dom/index.js';

/** The snippet's commands and their arguments. */
export interface Commands {
  init: [options: Partial<RecommenderOptions>];
  track: [event: TrackInput];
  rank: [candidates: Array<string | Candidate>, callback: (ranked: Ranked[]) => void, options?: RankOptions];
  forget: [callback?: (error?: unknown) => void];
  options: [options: RankOptions];
  ready: [callback: (recommender: Recommender) => void];
}
type Command = { [K in keyof Commands]: [K, ...Commands[K]] }[keyof Commands];

interface Stub {
  (...a: unknown[]): void;
  q?: ArrayLike<unknown>[];
  recommender?: Recommender;
  /** Set by the first copy of this file that runs: a second copy (a tag manager's) does nothing. */
  loaded?: true;
}

/**
 * data-holdout as a share: "0.2", or "20%". Anything else is null (the tag then runs without the
 * experiment, personalized, and says so once) rather than a page without shelfwise.
 */
export function parseHoldout(v: string | undefined): number | null {
  const s = v?.trim() ?? '';
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(%?)$/.exec(s);
  if (!m) return null;
  const x = Number(m[1]) / (m[2] ? 100 : 1);
  return x >= 0 && x <= 1 ? x : null;
}

const handlers: { [K in Exclude<keyof Commands, 'init'>]: (rec: Recommender, ...a: Commands[K]) => void } = {
  track: (rec, event) => {
    rec.track(event).catch(() => {});
  },
  rank: (rec, ids, cb, opts) => {
    rec
      .rank(ids, opts)
      .then((r) => cb?.(r))
      .catch(() => {});
  },
  forget: (rec, cb) => {
    rec
      .forget()
      // The callback runs either way: with the error when erasing failed (the shop must not wait forever).
      .then(
        () => cb?.(),
        (e: unknown) => cb?.(e),
      )
      .catch(() => {});
  },
  options: (rec, o) => rec.setOptions(o),
  ready: (rec, cb) => {
    rec.ready.then(() => cb(rec)).catch(() => {});
  },
};

(() => {
  const w = window as unknown as { shelfwise?: Stub };
  if (w.shelfwise?.loaded) {
    console.warn('[shelfwise] shelfwise.js is included twice: this copy does nothing, the first one runs');
    return;
  }
  const script = document.currentScript as HTMLScriptElement | null;
  const base = new URL('.', script?.src || location.href).href;
  const ds = script?.dataset ?? {};
  const queued: Command[] = Array.from(w.shelfwise?.q ?? [], (a) => Array.from(a) as Command);
  let rec: Recommender | null = null;
  let starting = false;
  const waiting: Command[] = [];
  const warned = new Set<string>();
  const warn = (m: string) => {
    if (!warned.has(m) && warned.size < 50) {
      warned.add(m);
      console.warn('[shelfwise] ' + m.slice(0, 300));
    }
  };

  const exec = (c: Command) => {
    const name = c[0];
    if (name === 'init') {
      init(c[1]);
      return;
    }
    if (!(name in handlers)) {
      warn(`unknown command ${JSON.stringify(String(name).slice(0, 40))}`);
      return;
    }
    if (!rec) {
      waiting.push(c);
      return;
    }
    try {
      (handlers[name] as (r: Recommender, ...a: unknown[]) => void)(rec, ...c.slice(1));
    } catch (e) {
      warn(String((e as Error)?.message ?? e));
    }
  };
  const api: Stub = (...a: unknown[]) => exec(a as Command);
  api.loaded = true;
  w.shelfwise = api;

  function init(opts: Partial<RecommenderOptions>): void {
    if (starting) {
      warn('shelfwise is already started: "init" is ignored');
      return;
    }
    const model = (opts && typeof opts === 'object' ? opts.model : undefined) ?? ds.model;
    if (!model) {
      warn('no data-model on the script tag: call shelfwise("init", {model}) to start');
      return;
    }
    starting = true;
    let experiment: RecommenderOptions['experiment'];
    if (ds.experiment !== undefined) {
      const holdout = parseHoldout(ds.holdout);
      if (holdout === null) {
        const e = new ShelfwiseError(
          'invalid_options',
          `data-holdout="${String(ds.holdout ?? '').slice(0, 20)}" is not a share from 0 to 1 (e.g. 0.2 or 20%): experiment "${ds.experiment.slice(0, 40)}" does not run, every shopper is personalized`,
        );
        warn(e.message);
        // After this script's task: a listener the page adds below the tag hears it too.
        setTimeout(() => window.dispatchEvent(new CustomEvent('shelfwise:error', { detail: e })));
      } else experiment = { name: ds.experiment, holdout };
    }
    createRecommenderWith(() => import(/* runtime chunk, lazily */ base + 'esm/runtime.js'), {
      backend: (ds.backend as RecommenderOptions['backend']) ?? 'auto',
      blend: ds.blend !== undefined ? Number(ds.blend) : undefined,
      consent: ds.consent !== 'false',
      finetune: ds.finetune === 'true',
      wasmPaths: base + 'wasm/',
      onError: (e) => window.dispatchEvent(new CustomEvent('shelfwise:error', { detail: e })),
      onRank: (info) => window.dispatchEvent(new CustomEvent('shelfwise:rank', { detail: info })),
      onFinetune: (info) => window.dispatchEvent(new CustomEvent('shelfwise:finetune', { detail: info })),
      ...(experiment ? { experiment } : {}),
      ...opts,
      model,
    }).then(
      (r) => {
        rec = r;
        api.recommender = r;
        watchGrids(r);
        hookAnalytics(
          window,
          (e) => {
            r.track(e as TrackInput).catch(() => {});
          },
          isCommerceEvent,
          warn,
        );
        for (const c of waiting.splice(0)) exec(c);
        window.dispatchEvent(new CustomEvent('shelfwise:ready', { detail: r }));
      },
      (e) => {
        starting = false;
        warn(String((e as Error)?.message ?? e));
      },
    );
  }

  /**
   * Binds every grid on the page and each one added later, and unbinds a grid once it has left the page
   * (a single-page shop replaces its grid on every route change: each binding's observers and listeners
   * go with it). A grid moved within the page stays bound.
   */
  function watchGrids(r: Recommender): void {
    const bound = new Map<Element, { unbind(): void }>();
    const bind = (root: ParentNode) =>
      root.querySelectorAll?.('[data-shelfwise-grid]').forEach((g) => {
        if (bound.has(g)) return;
        const hold = Number(g.getAttribute('data-shelfwise-hold') ?? 0);
        bound.set(
          g,
          r.bindGrid(g, {
            reorder: (g.getAttribute('data-shelfwise-reorder') as 'immediate' | null) ?? undefined,
            hold: Number.isFinite(hold) ? hold : 0,
          }),
        );
      });
    bind(document);
    new MutationObserver((rs) => {
      let removed = false;
      for (const m of rs) {
        if (m.removedNodes.length) removed = true;
        m.addedNodes.forEach(
          (n) =>
            n instanceof Element && (n.matches('[data-shelfwise-grid]') ? bind(n.parentNode ?? document) : bind(n)),
        );
      }
      if (removed)
        for (const [g, b] of bound)
          if (!g.isConnected) {
            b.unbind();
            bound.delete(g);
          }
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  const initCall = queued.findIndex((c) => c[0] === 'init');
  const rest = queued.filter((_, i) => i !== initCall);
  for (const c of rest) exec(c); // queued until the recommender exists
  if (initCall >= 0) exec(queued[initCall]);
  else if (ds.model) init({});
  else warn('no data-model on the script tag: call shelfwise("init", {model}) to start');
})();
