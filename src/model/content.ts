/**
 * A product's content as tokens, one definition for every reader (the content baseline today): each level
 * of its category paths, the brand, the title's words and the price band.
 */

/** A product's content as the page, a log's catalog or a shop's export gives it. */
export interface Content {
  title?: string;
  category?: string;
  brand?: string;
  price?: number;
}

/**
 * Content as tokens: each level of its category path (so "a > b" shares "a" with "a > c"; several paths
 * are separated by "|", as a film's genres), its brand, the words of its title (3+ letters, lower case, at
 * most 12) and its price band (powers of 2).
 */
export function contentTokens(m: Content | undefined): string[] {
  if (!m) return [];
  const out: string[] = [];
  for (const path of m.category?.split('|') ?? []) {
    const levels = path.split(' > ').map((x) => x.trim());
    if (!levels[0]) continue;
    levels.forEach((_, i) => out.push('c:' + levels.slice(0, i + 1).join('>')));
  }
  if (m.brand) out.push('b:' + m.brand.trim());
  const words = (m.title ?? '').toLowerCase().match(/[a-z]{3,}/g) ?? [];
  for (const w of [...new Set(words)].slice(0, 12)) out.push('w:' + w);
  if (m.price !== undefined && m.price > 0 && Number.isFinite(m.price)) out.push('p:' + Math.floor(Math.log2(m.price)));
  return out;
}
