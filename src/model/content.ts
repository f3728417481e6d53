/**
 * A product's content, and the content part: a product the model has no row for (added after training) is
 * embedded as the mean of its content tokens' vectors, learned with the item table (`npm run train --
 * --content`), so the model scores it as it scores a known product. One tokenizer serves the content
 * baseline, the trainer and the evaluation: each level of its category paths, the brand, the title's words
 * and the price band.
 *
 * content.bin: u32 K (tokens), u32 d, u32 B (bytes of the tokens' UTF-8, joined by "\n"), the tokens,
 * zero padding to a multiple of 4, f32 scale[K], u8 q[K × d]; a token's vector is (q − 128) · scale.
 */

/** A product's content as the page, a log's catalog or a shop's export gives it. */
export interface Content {
  title?: string;
  category?: string;
  brand?: string;
  price?: number;
}

/** Where the content part lives, in model.json's userDefinedMetadata.shelfwise.content. */
export interface ContentMeta {
  path: string;
  /** The file's content hash. */
  version: string;
  /** Tokens with a vector. */
  tokens: number;
}

export interface ContentTable {
  tokens: Map<string, number>;
  d: number;
  scale: Float32Array;
  q: Uint8Array;
}

/**
 * Content as tokens: each level of its category path (so "a > b" shares "a" with "a > c"; several paths
 * are separated by "|", as a film's genres), its brand, the words of its title (3+ letters, lower case, at
 * most 12) and its price band (powers of 2).
 */
export function contentTokens(m: Content | undefined): string[] {
  if (!m || typeof m !== 'object') return [];
  // A caller's candidates may carry anything: strings are read, other values ignored.
  const str = (x: unknown) => (typeof x === 'string' ? x.trim() : '');
  const out: string[] = [];
  for (const path of str(m.category).split('|')) {
    const levels = path.split(' > ').map((x) => x.trim());
    if (!levels[0]) continue;
    levels.forEach((_, i) => out.push('c:' + levels.slice(0, i + 1).join('>')));
  }
  if (str(m.brand)) out.push('b:' + str(m.brand));
  const words =
    str(m.title)
      .toLowerCase()
      .match(/[a-z]{3,}/g) ?? [];
  for (const w of [...new Set(words)].slice(0, 12)) out.push('w:' + w);
  if (typeof m.price === 'number' && m.price > 0 && Number.isFinite(m.price))
    out.push('p:' + Math.floor(Math.log2(m.price)));
  return out;
}

/** Reads content.bin; throws on a file that does not hold what its header says. */
export function decodeContent(b: ArrayBuffer, d: number): ContentTable {
  if (b.byteLength < 12) throw new Error('content.bin is shorter than its header');
  const dv = new DataView(b);
  const K = dv.getUint32(0, true),
    dd = dv.getUint32(4, true),
    B = dv.getUint32(8, true);
  const head = 12 + Math.ceil(B / 4) * 4;
  if (dd !== d) throw new Error(`content.bin has vectors of ${dd}, the model ${d}`);
  if (b.byteLength !== head + 4 * K + K * d)
    throw new Error(`content.bin holds ${b.byteLength} bytes, its header says ${head + 4 * K + K * d}`);
  const names = new TextDecoder().decode(new Uint8Array(b, 12, B)).split('\n');
  if (names.length !== K && !(K === 0 && names.length === 1))
    throw new Error(`content.bin names ${names.length} tokens, its header ${K}`);
  const tokens = new Map<string, number>();
  for (let k = 0; k < K; k++) tokens.set(names[k], k);
  return { tokens, d, scale: new Float32Array(b, head, K), q: new Uint8Array(b, head + 4 * K, K * d) };
}

/**
 * A product's vector from its content: the mean of its known tokens' vectors, and the tokens used; null
 * when none of its tokens has a vector.
 */
export function embedContent(t: ContentTable, m: Content | undefined): { v: Float32Array; tokens: string[] } | null {
  const used = contentTokens(m).filter((x) => t.tokens.has(x));
  if (!used.length) return null;
  const v = new Float32Array(t.d);
  for (const x of used) {
    const k = t.tokens.get(x)!;
    const s = t.scale[k] / used.length;
    for (let j = 0; j < t.d; j++) v[j] += (t.q[k * t.d + j] - 128) * s;
  }
  return { v, tokens: used };
}
