/** Records clicks and cart actions on a grid's products from the markup contract. */

import { markupContent, type MarkupContent } from './products.js';

const ACTIONS = new Set(['add_to_cart', 'remove_from_cart', 'purchase']);

/** A click or action with the product's content from its markup. */
export interface TrackedClick extends MarkupContent {
  type: string;
  itemId: string;
}

export interface Capture {
  /** The product clicked since the last call, if any (it keeps its slot in the next reorder). */
  takeClicked(): string | undefined;
  off(): void;
}

export function captureClicks(
  container: Element,
  track: (e: TrackedClick) => Promise<void>,
  report: (e: unknown) => void,
  onInteract: () => void,
  prefetch?: (id: string) => void,
): Capture {
  let clicked: string | undefined;
  // The pointer or focus on a product: what its click will need is fetched before the click (once each).
  const near = new Set<string>();
  const onNear = (ev: Event) => {
    const id = (ev.target as Element | null)?.closest?.('[data-shelfwise-item]')?.getAttribute('data-shelfwise-item');
    if (!id || near.has(id) || !prefetch) return;
    near.add(id);
    try {
      prefetch(id);
    } catch (e) {
      report(e);
    }
  };
  const onClick = (ev: Event) => {
    try {
      const t = ev.target as Element | null;
      const item = t?.closest?.('[data-shelfwise-item]');
      if (!item || !container.contains(item)) return;
      onInteract();
      const id = item.getAttribute('data-shelfwise-item') ?? '';
      const actionEl = t!.closest('[data-shelfwise-action]');
      const action =
        actionEl && item.contains(actionEl) ? (actionEl.getAttribute('data-shelfwise-action') ?? '') : 'click';
      if (action !== 'click' && !ACTIONS.has(action)) return;
      clicked = id;
      track({ type: action, itemId: id, ...markupContent(item) }).catch(() => {
        /* reported by track */
      });
    } catch (e) {
      report(e);
    }
  };
  container.addEventListener('click', onClick);
  for (const t of ['pointerover', 'focusin']) container.addEventListener(t, onNear, { passive: true });
  return {
    takeClicked() {
      const c = clicked;
      clicked = undefined;
      return c;
    },
    off() {
      container.removeEventListener('click', onClick);
      for (const t of ['pointerover', 'focusin']) container.removeEventListener(t, onNear);
    },
  };
}
