/**
 * Binds a product grid: records clicks and cart actions from the markup contract (capture.ts), ranks the
 * products (products.ts gives them in the merchant's order) and reorders the elements (reorder.ts).
 *
 * Markup: the container has `data-shelfwise-grid`; its child elements with `data-shelfwise-item="<id>"` are
 * the products (optional `data-shelfwise-category`); `data-shelfwise-hidden` or `data-shelfwise-stock="0"`
 * marks one unavailable; a button inside with `data-shelfwise-action="add_to_cart|remove_from_cart|purchase"`
 * records that action.
 *
 * Which slots move: until the shopper interacts (an event tracked, a click in the grid) or scrolls the page, a ranking applies to every
 * slot (so what a returning shopper sees first is personalized). After that, with the default
 * `reorder: 'deferred'`, elements in the viewport and the one just clicked keep their place.
 */
import type { Candidate, RankOptions, Ranked } from '../rank/index.js';
import { captureClicks, type Capture, type TrackedClick } from './capture.js';
import { MerchantOrder, products } from './products.js';
import { reorder } from './reorder.js';

export interface GridOptions extends RankOptions {
  /** 'deferred' (default): after an interaction, elements in the viewport and the one just clicked keep their place. */
  reorder?: 'deferred' | 'immediate';
  /** FLIP animation length in ms (0 = none; none under prefers-reduced-motion). Default 250. */
  animationMs?: number;
  /** Record clicks and actions from the markup (default true). */
  capture?: boolean;
  /**
   * Anti-flicker hold, in ms (default 0 = off): the grid is kept invisible (`visibility: hidden`, so the
   * layout does not move) until its first ranking is applied, and never longer than this.
   */
  hold?: number;
  /** Called after each reorder with the ranking applied. */
  onReorder?: (ranked: Ranked[]) => void;
}

export interface GridBinding {
  /**
   * Re-ranks and reorders now. `interaction`: the shopper just did something (from then on, what they see
   * stays put); `clickedId`: that product's element keeps its slot.
   */
  refresh(clickedId?: string, interaction?: boolean): Promise<void>;
  unbind(): void;
  readonly last: Ranked[] | null;
}

interface Host {
  track(e: TrackedClick): Promise<void>;
  rank(c: Candidate[], o?: RankOptions): Promise<Ranked[]>;
  /** What a click on this product will need, fetched ahead (a sharded directory's companions). */
  prefetch?(id: string): void;
}

const OBSERVED = ['data-shelfwise-item', 'data-shelfwise-hidden', 'data-shelfwise-stock', 'data-shelfwise-category'];

export function bindGrid(
  container: Element,
  host: Host,
  opts: GridOptions = {},
  report: (e: unknown) => void = () => {},
): GridBinding {
  const { reorder: mode, animationMs, capture: _c, hold, onReorder, ...rankOpts } = opts;
  let last: Ranked[] | null = null;
  const first = firstView();
  const capture: Capture | null =
    opts.capture !== false
      ? captureClicks(
          container,
          (e) => host.track(e),
          report,
          () => first.settle(),
          host.prefetch && ((id) => host.prefetch!(id)),
        )
      : null;
  const unhold = holdVisibility(container as HTMLElement, hold ?? 0);
  const order = new MerchantOrder(container);
  const view = viewTracker();

  // The product elements in DOM order and by id, as of our last look, and the candidates: rebuilt only after
  // the page changes the grid's children or the observed attributes (the observer's records).
  // `all` is every child element in DOM order; `els` the ranked products (a product id's first element), at
  // the indexes `slots` of `all`. Other children (a promo tile, a product's duplicate) keep their slot.
  let dom: { all: HTMLElement[]; els: HTMLElement[]; slots: number[]; byId: Map<string, HTMLElement> } | null = null;
  let cands: Candidate[] | null = null;
  const current = () => {
    const pending = mo?.takeRecords();
    if (pending?.length) onRecords(pending);
    if (!dom) {
      const all = Array.from(container.children) as HTMLElement[];
      const byId = new Map<string, HTMLElement>(),
        els: HTMLElement[] = [],
        slots: number[] = [];
      const slotOf = new Map<Element, number>();
      all.forEach((e, i) => slotOf.set(e, i));
      for (const e of products(container)) {
        const id = e.getAttribute('data-shelfwise-item')!;
        if (byId.has(id)) continue;
        byId.set(id, e);
        els.push(e);
        slots.push(slotOf.get(e)!);
      }
      dom = { all, els, slots, byId };
      view.watch(els);
    }
    return dom;
  };

  const apply = (ranked: Ranked[], clickedId?: string) => {
    const { all, els, slots, byId } = current();
    const target: HTMLElement[] = [];
    for (const r of ranked) {
      const e = byId.get(r.itemId);
      if (e) target.push(e);
    }
    if (target.length !== els.length) return;
    // Deferred: slots of visible / just-clicked elements are fixed; the others are filled in ranked order.
    // Only the slots up to the viewport's last product and `AHEAD` more take the ranking now (the rest keep
    // their order until the shopper scrolls there): each moved element costs the browser a re-layout of its
    // box, and on a 1,000-product grid moving all of them took longer than a frame.
    const fixed = new Set<HTMLElement>();
    const keep = mode !== 'immediate' && first.settled;
    let end = 0,
      seen = 0;
    els.forEach((e, i) => {
      const w = view.where(e);
      const visible = w === IN_VIEW;
      if (visible) seen++;
      if (w !== BELOW) end = i + 1;
      if (keep && (visible || (clickedId && e.getAttribute('data-shelfwise-item') === clickedId))) {
        fixed.add(e);
        end = Math.max(end, i + 1);
      }
    });
    end += Math.max(AHEAD, 2 * seen);
    const next = slotted(els, target, fixed, end);
    if (!next) return;
    // With the observer off: our own moves are not new products, and recording them costs more than the moves.
    mo?.disconnect();
    const nextAll = all.slice();
    slots.forEach((s, k) => (nextAll[s] = next[k]));
    reorder(container, all, nextAll, animationMs ?? 250);
    dom = { all: nextAll, els: next, slots, byId };
    observe();
  };

  const run = async (clickedId?: string) => {
    const ranked = await host.rank((cands ??= order.candidates()), rankOpts);
    last = ranked;
    apply(ranked, clickedId);
    unhold();
    onReorder?.(ranked);
  };

  let running: Promise<void> | null = null;
  let again: string | undefined | null = null;
  const refresh = (clickedId?: string, interaction = false): Promise<void> => {
    if (interaction) first.settle();
    const clicked = clickedId ?? capture?.takeClicked();
    if (running) {
      again = clicked ?? again ?? undefined;
      return running;
    }
    running = (async () => {
      try {
        await run(clicked);
        while (again !== null) {
          const c = again;
          again = null;
          await run(c);
        }
      } catch (e) {
        report(e);
      } finally {
        running = null;
      }
    })();
    return running;
  };

  const onRecords = (records: MutationRecord[]) => {
    const isProduct = (n: Node) => n instanceof Element && n.hasAttribute('data-shelfwise-item');
    if (
      records.some(
        (r) =>
          (r.type === 'childList' && r.target === container) ||
          (r.type === 'attributes' && r.attributeName === 'data-shelfwise-item'),
      )
    )
      dom = null;
    if (records.some((r) => r.type === 'attributes' || Array.from(r.removedNodes).some(isProduct))) cands = null;
    if (records.some((r) => Array.from(r.addedNodes).some(isProduct))) {
      cands = null;
      order.stamp();
      void refresh();
    }
  };
  const mo = typeof MutationObserver !== 'undefined' ? new MutationObserver(onRecords) : null;
  const observe = () =>
    mo?.observe(container, { childList: true, subtree: true, attributes: true, attributeFilter: OBSERVED });
  observe();
  // As the shopper scrolls, the slots that come within reach take the last ranking (at most every 100 ms).
  let scrolled: ReturnType<typeof setTimeout> | undefined;
  const onScroll = () => {
    scrolled ??= setTimeout(() => {
      scrolled = undefined;
      if (last && !running) apply(last);
    }, 100);
  };
  document.addEventListener('scroll', onScroll, { capture: true, passive: true });
  void refresh();
  return {
    refresh,
    unbind() {
      document.removeEventListener('scroll', onScroll, { capture: true });
      clearTimeout(scrolled);
      capture?.off();
      mo?.disconnect();
      view.off();
      first.settle();
      unhold();
    },
    get last() {
      return last;
    },
  };
}

const IN_VIEW = 0,
  ABOVE = 1,
  BELOW = 2;

/**
 * Where each product element is against the viewport: in it, above it (scrolled past; also an element with
 * no box) or below it. An IntersectionObserver keeps this as of the last rendered frame, which is what the
 * shopper saw, so a ranking reads no layout: reading 1,000 elements' positions cost 3.6 ms per interaction.
 * Elements it has not reported yet (just added) and browsers without it measure their box.
 */
function viewTracker(): { where(e: Element): number; watch(els: Element[]): void; off(): void } {
  const state = new WeakMap<Element, number>();
  const io =
    typeof IntersectionObserver === 'function'
      ? new IntersectionObserver((entries) => {
          for (const x of entries) {
            const r = x.boundingClientRect;
            state.set(
              x.target,
              x.isIntersecting && r.width > 0 ? IN_VIEW : r.bottom <= (x.rootBounds?.top ?? 0) ? ABOVE : BELOW,
            );
          }
        })
      : null;
  let watched = new Set<Element>();
  return {
    where(e) {
      const w = state.get(e);
      if (w !== undefined) return w;
      const r = e.getBoundingClientRect();
      return r.bottom > 0 && r.top < (window.innerHeight || 0) && r.width > 0 ? IN_VIEW : r.bottom <= 0 ? ABOVE : BELOW;
    },
    watch(els) {
      if (!io) return;
      const now = new Set(els);
      for (const e of watched) if (!now.has(e)) io.unobserve(e);
      for (const e of now) if (!watched.has(e)) io.observe(e);
      watched = now;
    },
    off() {
      io?.disconnect();
      watched = new Set();
    },
  };
}

/** Products ordered beyond the viewport's last one at each ranking (at least; twice the visible ones if more). */
const AHEAD = 48;

/**
 * The elements in slot order: `fixed` ones where they are, the others in `target`'s order, in the first `end`
 * slots; after those, the remaining elements in their current order. Null when nothing moves.
 */
function slotted(
  els: HTMLElement[],
  target: HTMLElement[],
  fixed: Set<HTMLElement>,
  end: number,
): HTMLElement[] | null {
  let next = target;
  if (fixed.size) {
    const movable = target.filter((e) => !fixed.has(e));
    let k = 0;
    next = els.map((e) => (fixed.has(e) ? e : movable[k++]));
  }
  if (end < next.length) {
    const head = next.slice(0, end),
      inHead = new Set(head);
    next = head.concat(els.filter((e) => !inHead.has(e)));
  }
  for (let i = 0; i < els.length; i++) if (next[i] !== els[i]) return next;
  return null;
}

/** Until the shopper interacts with the grid (`settle`) or scrolls the page, every slot may move. */
function firstView(): { readonly settled: boolean; settle(): void } {
  let settled = false;
  const settle = () => {
    settled = true;
    removeEventListener('scroll', settle);
  };
  addEventListener('scroll', settle, { passive: true, once: true });
  return {
    get settled() {
      return settled;
    },
    settle,
  };
}

/**
 * Hides `el` (visibility only: the layout stays) for at most `ms`; returns the function that shows it again.
 * Showing marks the grid `data-shelfwise-ready`, which also ends the page's own CSS hold from its first
 * paint (the rule in docs/installing.md: hidden until that attribute, or until its CSS timeout).
 */
function holdVisibility(el: HTMLElement, ms: number): () => void {
  if (!(ms > 0) || !el.style) {
    el.setAttribute?.('data-shelfwise-ready', '');
    return () => {};
  }
  const before = el.style.visibility;
  el.style.visibility = 'hidden';
  let done = false;
  const show = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    el.style.visibility = before;
    el.setAttribute('data-shelfwise-ready', '');
  };
  const timer = setTimeout(show, Math.min(ms, 10_000));
  return show;
}
