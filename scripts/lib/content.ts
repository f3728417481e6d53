/**
 * The content part on the training side (`npm run train -- --content`): every product's row in the item
 * table becomes its learned id vector plus the mean of its content tokens' vectors, trained together with
 * the transformer. Each step drops the id vectors of a random share of the products (rows then their
 * content alone, in the inputs and in the softmax), as a catalog with new products is after deployment,
 * so the content vectors learn to rank a product the model has no id for. The exported item table holds
 * id + content for every known product (the page reads it as before); content.bin holds the token vectors
 * for products added since (src/model/content.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  contentTokens,
  decodeContent,
  embedContent,
  type Content,
  type ContentMeta,
  type ContentTable,
} from '../../src/model/content.js';

import { contentVersion } from '../../src/model/weights.js';
import { nameInModelJson } from './modeldir.js';

export const CONTENT_FILE = 'content.bin';

/** The products' tokens as rows of a sparse averaging matrix (CSR over item rows; row 0 empty). */
export interface ContentIndex {
  tokens: string[];
  start: Int32Array;
  cols: Int32Array;
  /** The share of products whose id vector each step drops. */
  drop: number;
}

/**
 * Tokens of at least `minItems` known products (at most `maxTokens`, the most frequent), and each item
 * row's tokens among them. Null when no product has content.
 */
export function contentIndex(
  vocab: string[],
  meta: Map<string, Content>,
  drop: number,
  minItems = 2,
  maxTokens = 50_000,
): ContentIndex | null {
  const per = vocab.map((id) => [...new Set(contentTokens(meta.get(id)))]);
  const count = new Map<string, number>();
  for (const t of per) for (const x of t) count.set(x, (count.get(x) ?? 0) + 1);
  const tokens = [...count]
    .filter(([, c]) => c >= minItems)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, maxTokens)
    .map(([x]) => x);
  if (!tokens.length) return null;
  const index = new Map(tokens.map((x, k) => [x, k]));
  const start = [0, 0],
    cols: number[] = [];
  for (const t of per) {
    for (const x of t) if (index.has(x)) cols.push(index.get(x)!);
    start.push(cols.length);
  }
  return { tokens, start: Int32Array.from(start), cols: Int32Array.from(cols), drop };
}

/**
 * The item table the model reads: id vectors (rows not in `keep` dropped to zero) plus each row's mean
 * content vector. The content mean runs on the CPU side with its own gradient (a scatter-add), which the
 * wasm backend lacks for gather.
 */
export function effectiveTable(
  itemEmb: tf.Tensor,
  w: tf.Tensor,
  c: ContentIndex,
  keep: Float32Array | null,
): tf.Tensor2D {
  const [V, d] = itemEmb.shape as [number, number];
  const K = c.tokens.length;
  // Each product row's tokens, with the weight 1 / (its tokens).
  const each = (f: (r: number, k: number, s: number) => void) => {
    for (let r = 1; r < V; r++) {
      const a = c.start[r],
        b = c.start[r + 1];
      for (let q = a; q < b; q++) f(r * d, c.cols[q] * d, 1 / (b - a));
    }
  };
  const mean = tf.customGrad(((wt: tf.Tensor) => {
    const wv = wt.dataSync() as Float32Array;
    const out = new Float32Array(V * d);
    each((r, k, s) => {
      for (let j = 0; j < d; j++) out[r + j] += s * wv[k + j];
    });
    return {
      value: tf.tensor2d(out, [V, d]),
      gradFunc: (dy: tf.Tensor) => {
        const g = new Float32Array(K * d),
          dv = dy.dataSync() as Float32Array;
        each((r, k, s) => {
          for (let j = 0; j < d; j++) g[k + j] += s * dv[r + j];
        });
        return tf.tensor2d(g, [K, d]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const ids = keep ? tf.mul(itemEmb, tf.tensor2d(keep, [V, 1])) : itemEmb;
  return tf.add<tf.Tensor2D>(ids, mean(w));
}

/** Rows whose id vector this step drops: a `drop` share of the rows that have content (1 = kept). */
export function dropMask(c: ContentIndex, V: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const keep = new Float32Array(V).fill(1);
  for (let r = 1; r < V; r++) {
    s = (s * 1103515245 + 12345) >>> 0;
    if (c.start[r + 1] > c.start[r] && s / 2 ** 32 < c.drop) keep[r] = 0;
  }
  return keep;
}

/** Writes content.bin into a model directory and names it in its model.json. */
export function writeContentPart(dir: string, tokens: string[], vectors: Float32Array, d: number): ContentMeta {
  const bytes = encodeContent(tokens, vectors, d);
  const meta: ContentMeta = { path: CONTENT_FILE, version: contentVersion(bytes), tokens: tokens.length };
  fs.writeFileSync(path.join(dir, meta.path), bytes);
  nameInModelJson(dir, { content: meta });
  return meta;
}

export function readContentPart(dir: string, meta: ContentMeta | undefined, d: number): ContentTable | null {
  if (!meta) return null;
  const b = fs.readFileSync(path.join(dir, meta.path));
  return decodeContent(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength), d);
}

/** The vectors of products the model has no row for, from their content (null: no known token). */
export function coldVectors(
  t: ContentTable,
  cold: string[],
  meta: Map<string, Content> | undefined,
): Array<Float32Array | null> {
  return cold.map((id) => embedContent(t, meta?.get(id))?.v ?? null);
}

/** content.bin's bytes (the format: src/model/content.ts): each token's vector quantized to uint8 with its own scale. */
export function encodeContent(tokens: string[], vectors: Float32Array, d: number): Uint8Array {
  const K = tokens.length;
  const text = new TextEncoder().encode(tokens.join('\n'));
  const head = 12 + Math.ceil(text.length / 4) * 4;
  const buf = new ArrayBuffer(head + 4 * K + K * d);
  const dv = new DataView(buf);
  dv.setUint32(0, K, true);
  dv.setUint32(4, d, true);
  dv.setUint32(8, text.length, true);
  new Uint8Array(buf, 12, text.length).set(text);
  const scale = new Float32Array(buf, head, K);
  const q = new Uint8Array(buf, head + 4 * K, K * d);
  for (let k = 0; k < K; k++) {
    let m = 0;
    for (let j = 0; j < d; j++) m = Math.max(m, Math.abs(vectors[k * d + j]));
    scale[k] = m / 127 || 1;
    for (let j = 0; j < d; j++) q[k * d + j] = Math.round(vectors[k * d + j] / scale[k]) + 128;
  }
  return new Uint8Array(buf);
}
