/** A grid's products as the markup declares them, and as candidates in the merchant's order. */
import type { Candidate } from '../rank/index.js';

type Stamped = HTMLElement & { __swIndex?: number };

/** The product elements (children with `data-shelfwise-item`), in DOM order. */
export function products(container: Element): HTMLElement[] {
  return Array.from(container.children).filter(
    (c): c is HTMLElement => c instanceof HTMLElement && c.hasAttribute('data-shelfwise-item'),
  );
}

/** Remembers the order in which the page first rendered each product: the merchant's order. */
export class MerchantOrder {
  private seq = 0;
  constructor(private readonly container: Element) {
    this.stamp();
  }

  /** Numbers the products not seen before (new products go after the known ones). */
  stamp(): void {
    for (const e of products(this.container) as Stamped[]) if (e.__swIndex === undefined) e.__swIndex = this.seq++;
  }

  /** The products as candidates, in the merchant's order. */
  candidates(): Candidate[] {
    const seen = new Set<string>();
    const els = (products(this.container) as Stamped[])
      .filter((e) => {
        // A product id's first element is the one ranked; its duplicates keep their slots.
        const id = e.getAttribute('data-shelfwise-item') ?? '';
        return !seen.has(id) && !!seen.add(id);
      })
      .sort((a, b) => (a.__swIndex ?? 0) - (b.__swIndex ?? 0));
    return els.map((e) => {
      const content = markupContent(e);
      const c: Candidate = {
        id: e.getAttribute('data-shelfwise-item') ?? '',
        category: content.category,
        available: !(e.hasAttribute('data-shelfwise-hidden') || e.getAttribute('data-shelfwise-stock') === '0'),
      };
      if (content.title || content.brand || content.category) c.content = content;
      const code = e.getAttribute('data-shelfwise-code');
      if (code) c.code = code;
      return c;
    });
  }
}

/** A product's content as its markup gives it (`data-shelfwise-title|category|brand|price`). */
export interface MarkupContent {
  title?: string;
  category?: string;
  brand?: string;
  price?: number;
}

/**
 * A product element's content. A price that is not a plain number of at least 0 (a currency sign, a range)
 * is left out rather than losing the click or the product.
 */
export function markupContent(e: Element): MarkupContent {
  const a = (n: string) => e.getAttribute('data-shelfwise-' + n) ?? undefined;
  const price = Number(a('price') ?? NaN);
  return {
    title: a('title'),
    category: a('category'),
    brand: a('brand'),
    price: Number.isFinite(price) && price >= 0 ? price : undefined,
  };
}
