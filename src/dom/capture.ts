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
): Capture {
  let clicked: string | undefined;
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
  return {
    takeClicked() {
      const c = clicked;
      clicked = undefined;
      return c;
    },
    off() {
      container.removeEventListener('click', onClick);
    },
  };
}
