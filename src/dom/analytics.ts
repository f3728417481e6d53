/**
 * Records the shop's own analytics events: GA4 e-commerce events on `window.dataLayer` (objects pushed by
 * GTM, or gtag.js's `dataLayer.push(arguments)`) and Segment `analytics.track` calls. Every read of these
 * foreign objects is guarded: a hostile or broken entry is skipped, and the shop's own `push` never throws
 * because of shelfwise.
 */

type Take = (event: unknown) => void;

/** A dataLayer entry as a GA4 event object, or null when it is not one we map. */
export function ga4Event(entry: unknown, isCommerce: (name: unknown) => boolean): object | null {
  if (!entry || typeof entry !== 'object') return null;
  // gtag.js: gtag('event', name, params) pushes its arguments object.
  if (Object.prototype.toString.call(entry) === '[object Arguments]' || Array.isArray(entry)) {
    const a = entry as ArrayLike<unknown>;
    if (a[0] !== 'event' || !isCommerce(a[1])) return null;
    const p = a[2] && typeof a[2] === 'object' ? (a[2] as Record<string, unknown>) : {};
    return { event: a[1], ecommerce: { items: p.items }, search_term: p.search_term };
  }
  const name = (entry as { event?: unknown }).event;
  return isCommerce(name) ? entry : null;
}

export function hookAnalytics(
  w: Window,
  track: Take,
  isCommerce: (name: unknown) => boolean,
  warn: (m: string) => void,
): void {
  const g = w as unknown as { dataLayer?: unknown; analytics?: unknown };
  const take = (x: unknown) => {
    try {
      const e = ga4Event(x, isCommerce);
      if (e) track(e);
    } catch (err) {
      warn(`a dataLayer entry could not be read: ${String((err as Error)?.message ?? err).slice(0, 100)}`);
    }
  };
  try {
    if (g.dataLayer === undefined) g.dataLayer = [];
    const dl = g.dataLayer;
    if (Array.isArray(dl)) {
      for (let i = 0; i < dl.length; i++) {
        let x: unknown;
        try {
          x = dl[i];
        } catch {
          continue;
        }
        take(x);
      }
      const push = dl.push;
      dl.push = function (this: unknown, ...items: unknown[]) {
        const n = push.apply(this, items); // the shop's own push: its errors are its own
        for (const x of items) take(x);
        return n;
      };
    } else warn('window.dataLayer is not an array: GA4 events are not recorded');
  } catch (err) {
    warn(`window.dataLayer could not be hooked: ${String((err as Error)?.message ?? err).slice(0, 100)}`);
  }
  try {
    const a = g.analytics as { on?: (ev: string, cb: (...a: unknown[]) => void) => void } | undefined;
    if (a && typeof a.on === 'function') {
      a.on('track', (event: unknown, properties: unknown) => {
        try {
          if (isCommerce(event)) track({ event, properties });
        } catch {
          /* a hostile event */
        }
      });
    }
  } catch (err) {
    warn(`window.analytics could not be hooked: ${String((err as Error)?.message ?? err).slice(0, 100)}`);
  }
}
