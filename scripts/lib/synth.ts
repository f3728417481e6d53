/**
 * A synthetic catalog of any size built from real products, and a log of the same shape as a real one, for
 * measuring what the SDK and the trainer do at 10,000 to 1,000,000 products.
 *
 * Catalog: dunnhumby's 92,353 grocery products (department > commodity > sub-commodity, brand, size, price);
 * below that many, a random subset of them; above, each product in variants (a pack size, a flavour), with
 * its category and brand and a price that moves with the variant.
 *
 * Log: Online Retail's shoppers replayed, each as often as the catalog's size needs (about three events per
 * product): every shopper's timestamps, event types, session cuts and repeats stay as they are; each product
 * the shopper touched becomes one product of a category that product stands for (the same category for every
 * shopper, drawn in proportion to the categories' sizes), chosen by a Zipf popularity within it, and the same
 * synthetic product wherever the shopper came back to it.
 */
import type { ItemMeta, Log } from './data.js';
import { rng } from './windows.js';

const VARIANTS = [
  '',
  'family pack',
  'twin pack',
  'value size',
  'organic',
  'low fat',
  'extra large',
  'mini',
  'reduced sugar',
  'multipack',
  'limited edition',
  'refill',
];

/** `n` products from the real catalog `base` (ids "s<index>"), in a seeded random order. */
export function synthCatalog(base: Map<string, ItemMeta>, n: number, seed = 1): Array<[string, ItemMeta]> {
  const rand = rng(seed);
  const real = [...base].filter(([, m]) => m.category);
  for (let i = real.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [real[i], real[j]] = [real[j], real[i]];
  }
  const out: Array<[string, ItemMeta]> = [];
  for (let i = 0; i < n; i++) {
    const [, m] = real[i % real.length];
    const v = Math.floor(i / real.length);
    const label =
      VARIANTS[v % VARIANTS.length] + (v >= VARIANTS.length ? ` ${Math.floor(v / VARIANTS.length) + 1}` : '');
    out.push([
      `s${i}`,
      {
        title: [m.title, label].filter(Boolean).join(' ') || undefined,
        category: m.category,
        brand: m.brand,
        price: m.price !== undefined ? Math.round(m.price * (1 + 0.15 * (v % 5)) * 100) / 100 : undefined,
      },
    ]);
  }
  return out;
}

/** The synthetic log over `catalog`, with `shape`'s shoppers replayed (see the module's comment). */
export function synthLog(
  name: string,
  catalog: Array<[string, ItemMeta]>,
  shape: Log,
  o: { eventsPerProduct?: number; zipf?: number; seed?: number } = {},
): Log {
  const rand = rng(o.seed ?? 2);
  const byCat = new Map<string, number[]>();
  catalog.forEach(([, m], i) => {
    const c = m.category!;
    let l = byCat.get(c);
    if (!l) byCat.set(c, (l = []));
    l.push(i);
  });
  const cats = [...byCat.values()];
  // A category for each real product, in proportion to the categories' sizes.
  const cum = new Float64Array(cats.length);
  cats.reduce((s, l, k) => (cum[k] = s + l.length), 0);
  const total = cum[cats.length - 1];
  const catOf = new Map<string, number[]>();
  const pickCat = () => {
    const x = rand() * total;
    let lo = 0,
      hi = cats.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return cats[lo];
  };
  // Zipf within a category: rank r drawn with probability ∝ 1 / (r + 1)^s (inverse transform on a table).
  const s = o.zipf ?? 0.6;
  const tables = new Map<number, Float64Array>();
  const zipfRank = (n: number) => {
    let t = tables.get(n);
    if (!t) {
      t = new Float64Array(n);
      let acc = 0;
      for (let r = 0; r < n; r++) t[r] = acc += 1 / Math.pow(r + 1, s);
      tables.set(n, t);
    }
    const x = rand() * t[n - 1];
    let lo = 0,
      hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const events = shape.users.reduce((n, u) => n + u.items.length, 0);
  const copies = Math.max(1, Math.round(((o.eventsPerProduct ?? 3) * catalog.length) / events));
  const users: Log['users'] = [];
  for (let c = 0; c < copies; c++)
    for (const u of shape.users) {
      const mine = new Map<string, string>();
      const items = u.items.map((it) => {
        let p = mine.get(it);
        if (!p) {
          let cat = catOf.get(it);
          if (!cat) catOf.set(it, (cat = pickCat()));
          p = catalog[cat[zipfRank(cat.length)]][0];
          mine.set(it, p);
        }
        return p;
      });
      users.push({
        user: `${u.user}~${c}`,
        items,
        types: u.types.slice(),
        ts: u.ts.slice(),
        ...(u.session ? { session: u.session.slice() } : {}),
      });
    }
  return {
    name,
    users,
    meta: new Map(catalog),
    notes: [
      `synthetic: ${catalog.length} products from ${shape.name === 'online-retail' ? "dunnhumby's catalog" : 'a real catalog'}; ${shape.name}'s ${shape.users.length} shoppers replayed ${copies}× with each product they touched drawn from a category (Zipf ${s} within it)`,
    ],
  };
}
