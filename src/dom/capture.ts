/** Records clicks and cart actions on a grid's products from the markup contract. */

const ACTIONS = new Set(['add_to_cart', 'remove_from_cart', 'purchase']);

export interface Capture {
  /** The product clicked since the last call, if any (it keeps its slot in the next reorder). */
  takeClicked(): string | undefined;
  off(): void;
}

export function captureClicks(
  container: Element,
  track: (e: { type: string; itemId: string }) => Promise<void>,
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
      track({ type: action, itemId: id }).catch(() => {
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
