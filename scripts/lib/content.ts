/**
 * Fits the content part (src/model/content.ts) onto a trained model: one vector per content token such that
 * the mean of a known product's token vectors reproduces its learned embedding (ridge regression, solved by
 * conjugate gradients, one right-hand side per dimension). A product the model never saw is then scored
 * from its content alone, in the same space as every other product.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  contentTokens,
  decodeContent,
  embedContent,
  encodeContent,
  type Content,
  type ContentMeta,
  type ContentTable,
} from '../../src/model/content.js';

export const CONTENT_FILE = 'content.bin';

export interface ContentFitOptions {
  /** Tokens of fewer known products have no vector (they cannot be learned). */
  minItems?: number;
  /** At most this many tokens, the most frequent (the file is 68 bytes per token at d 64). */
  maxTokens?: number;
  /** Ridge penalty, relative to the mean diagonal of XᵀX. */
  lambda?: number;
  iterations?: number;
}

/**
 * Token vectors from the item table `E` ([V × d], row r = ids[r − 1]; row 0 padding) and the products'
 * content. Returns the tokens and their vectors ([K × d]), with the share of known products that have
 * content tokens, and the fit's R² over them.
 */
export function fitContent(
  ids: string[],
  meta: Map<string, Content>,
  E: Float32Array,
  d: number,
  o: ContentFitOptions = {},
): { tokens: string[]; vectors: Float32Array; covered: number; r2: number } {
  const minItems = o.minItems ?? 2,
    maxTokens = o.maxTokens ?? 50_000,
    iters = o.iterations ?? 80;
  const per = ids.map((id) => contentTokens(meta.get(id)));
  const count = new Map<string, number>();
  for (const t of per) for (const x of t) count.set(x, (count.get(x) ?? 0) + 1);
  const tokens = [...count]
    .filter(([, c]) => c >= minItems)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, maxTokens)
    .map(([x]) => x);
  const K = tokens.length;
  const index = new Map(tokens.map((x, k) => [x, k]));
  // X: one row per known product with a kept token, each kept token 1/n (the mean the page computes).
  const rowStart: number[] = [0],
    cols: number[] = [],
    rowItem: number[] = [];
  per.forEach((t, i) => {
    const k = [...new Set(t.filter((x) => index.has(x)))].map((x) => index.get(x)!);
    if (!k.length) return;
    cols.push(...k);
    rowStart.push(cols.length);
    rowItem.push(i + 1);
  });
  const N = rowItem.length;
  const vectors = new Float32Array(K * d);
  if (!N || !K) return { tokens: [], vectors: new Float32Array(0), covered: 0, r2: 0 };
  const val = (r: number) => 1 / (rowStart[r + 1] - rowStart[r]);
  // diag(XᵀX), for the penalty's scale.
  const diag = new Float64Array(K);
  for (let r = 0; r < N; r++) for (let q = rowStart[r]; q < rowStart[r + 1]; q++) diag[cols[q]] += val(r) ** 2;
  const lambda = (o.lambda ?? 0.05) * (diag.reduce((a, b) => a + b, 0) / K);
  // A·P = Xᵀ(X·P) + λP, for P [K × d].
  const tmp = new Float64Array(N * d);
  const apply = (P: Float64Array, out: Float64Array) => {
    tmp.fill(0);
    for (let r = 0; r < N; r++) {
      const v = val(r);
      for (let q = rowStart[r]; q < rowStart[r + 1]; q++) {
        const c = cols[q] * d;
        for (let j = 0; j < d; j++) tmp[r * d + j] += v * P[c + j];
      }
    }
    for (let i = 0; i < K * d; i++) out[i] = lambda * P[i];
    for (let r = 0; r < N; r++) {
      const v = val(r);
      for (let q = rowStart[r]; q < rowStart[r + 1]; q++) {
        const c = cols[q] * d;
        for (let j = 0; j < d; j++) out[c + j] += v * tmp[r * d + j];
      }
    }
  };
  // B = XᵀY.
  const B = new Float64Array(K * d);
  for (let r = 0; r < N; r++) {
    const v = val(r),
      e = rowItem[r] * d;
    for (let q = rowStart[r]; q < rowStart[r + 1]; q++) for (let j = 0; j < d; j++) B[cols[q] * d + j] += v * E[e + j];
  }
  // Conjugate gradients from W = 0, each of the d columns its own step sizes.
  const W = new Float64Array(K * d),
    R = B.slice(),
    P = B.slice(),
    AP = new Float64Array(K * d);
  const rr = new Float64Array(d);
  for (let i = 0; i < K * d; i++) rr[i % d] += R[i] * R[i];
  const rr0 = rr.slice();
  for (let it = 0; it < iters; it++) {
    apply(P, AP);
    const pAp = new Float64Array(d);
    for (let i = 0; i < K * d; i++) pAp[i % d] += P[i] * AP[i];
    const alpha = pAp.map((x, j) => (x > 0 ? rr[j] / x : 0));
    const next = new Float64Array(d);
    for (let i = 0; i < K * d; i++) {
      const j = i % d;
      W[i] += alpha[j] * P[i];
      R[i] -= alpha[j] * AP[i];
      next[j] += R[i] * R[i];
    }
    const beta = next.map((x, j) => (rr[j] > 0 ? x / rr[j] : 0));
    for (let i = 0; i < K * d; i++) P[i] = R[i] + beta[i % d] * P[i];
    rr.set(next);
    if (rr.every((x, j) => x <= 1e-10 * rr0[j])) break;
  }
  for (let i = 0; i < K * d; i++) vectors[i] = W[i];
  // R² of the fit over the covered products.
  let ss = 0,
    st = 0;
  const mean = new Float64Array(d);
  for (let r = 0; r < N; r++) for (let j = 0; j < d; j++) mean[j] += E[rowItem[r] * d + j] / N;
  for (let r = 0; r < N; r++) {
    const v = val(r);
    for (let j = 0; j < d; j++) {
      let p = 0;
      for (let q = rowStart[r]; q < rowStart[r + 1]; q++) p += v * W[cols[q] * d + j];
      const y = E[rowItem[r] * d + j];
      ss += (y - p) ** 2;
      st += (y - mean[j]) ** 2;
    }
  }
  return { tokens, vectors, covered: N / ids.length, r2: 1 - ss / st };
}

/** Writes content.bin into a model directory; returns model.json's entry for it. */
export function writeContentPart(dir: string, tokens: string[], vectors: Float32Array, d: number): ContentMeta {
  fs.writeFileSync(path.join(dir, CONTENT_FILE), encodeContent(tokens, vectors, d));
  return { path: CONTENT_FILE, version: 1, tokens: tokens.length };
}

export function readContentPart(dir: string, meta: ContentMeta | undefined, d: number): ContentTable | null {
  if (!meta) return null;
  const b = fs.readFileSync(path.join(dir, meta.path));
  return decodeContent(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength), d);
}

/**
 * The vectors of products the model has no row for (`cold`, in row order after the model's), from their
 * content; a product without any known token gets null (ranked last, as today).
 */
export function coldVectors(
  t: ContentTable,
  cold: string[],
  meta: Map<string, Content> | undefined,
): Array<Float32Array | null> {
  return cold.map((id) => embedContent(t, meta?.get(id))?.v ?? null);
}

/**
 * The content part trained for ranking: the transformer frozen, each training example (a user vector and
 * the item that came next) asks that the target, known only by its content, win the softmax against the
 * catalog's other products by their learned rows and against `negatives` other products also known only
 * by their content (so content vectors compete with each other, not only with ids). Starts from the
 * ridge fit; Adam on the token vectors and one shared bias (a product known by content only: its prior).
 */
export function trainContent(
  users: Float32Array,
  targets: Int32Array,
  E: Float32Array,
  V: number,
  d: number,
  rowTokens: Int32Array[],
  init: Float32Array,
  o: { epochs?: number; lr?: number; negatives?: number; l2?: number; seed?: number; say?: (s: string) => void } = {},
): { vectors: Float32Array; bias: number } {
  const N = targets.length,
    K = init.length / d;
  const epochs = o.epochs ?? 8,
    lr = o.lr ?? 0.01,
    M = o.negatives ?? 32,
    l2 = o.l2 ?? 1e-4;
  const W = Float32Array.from(init);
  let bias = 0;
  const m1 = new Float32Array(K * d),
    m2 = new Float32Array(K * d);
  let bm1 = 0,
    bm2 = 0,
    step = 0;
  // Per example: the max warm logit and the sum of exp(z − max) over every warm row (row 0 excluded).
  const zmax = new Float32Array(N),
    zsum = new Float64Array(N);
  const dot = (u: number, r: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += users[u * d + j] * E[r * d + j];
    return s;
  };
  for (let i = 0; i < N; i++) {
    let mx = -Infinity;
    const z = new Float64Array(V);
    for (let r = 1; r < V; r++) {
      z[r] = dot(i, r);
      if (z[r] > mx) mx = z[r];
    }
    let t = 0;
    for (let r = 1; r < V; r++) t += Math.exp(z[r] - mx);
    zmax[i] = mx;
    zsum[i] = t;
  }
  let seed = o.seed ?? 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const content = (r: number, out: Float32Array) => {
    out.fill(0);
    const t = rowTokens[r];
    if (!t.length) return false;
    for (const k of t) for (let j = 0; j < d; j++) out[j] += W[k * d + j] / t.length;
    return true;
  };
  const G = new Float32Array(K * d);
  const touched = new Set<number>();
  const c = new Float32Array(d);
  const order = Int32Array.from({ length: N }, (_, i) => i);
  const B = 256;
  for (let ep = 0; ep < epochs; ep++) {
    for (let i = N - 1; i > 0; i--) {
      const k = Math.floor(rand() * (i + 1));
      [order[i], order[k]] = [order[k], order[i]];
    }
    let loss = 0;
    for (let b0 = 0; b0 < N; b0 += B) {
      let gb = 0;
      for (let bi = b0; bi < Math.min(N, b0 + B); bi++) {
        const i = order[bi],
          t = targets[i];
        if (!rowTokens[t].length) continue;
        // The rows known by content in this example: the target and M others.
        const rows = [t];
        for (let m = 0; m < M; m++) {
          const r = 1 + Math.floor(rand() * (V - 1));
          if (r !== t && rowTokens[r].length) rows.push(r);
        }
        // Denominator: warm rows other than these (their id logits) plus these by content.
        let rest = zsum[i];
        const a = new Float64Array(rows.length);
        for (let q = 0; q < rows.length; q++) {
          rest -= Math.exp(dot(i, rows[q]) - zmax[i]);
          content(rows[q], c);
          let s = bias;
          for (let j = 0; j < d; j++) s += users[i * d + j] * c[j];
          a[q] = s - zmax[i];
        }
        rest = Math.max(rest, 0);
        let den = rest;
        for (let q = 0; q < rows.length; q++) den += Math.exp(a[q]);
        loss += -a[0] + Math.log(den);
        // d loss / d a_q = p_q − [q = 0].
        for (let q = 0; q < rows.length; q++) {
          const g = Math.exp(a[q]) / den - (q === 0 ? 1 : 0);
          gb += g;
          const tk = rowTokens[rows[q]];
          for (const k of tk) {
            touched.add(k);
            for (let j = 0; j < d; j++) G[k * d + j] += (g * users[i * d + j]) / tk.length;
          }
        }
      }
      // Adam on the touched token vectors (lazy: untouched rows keep their moments) and the bias.
      step++;
      const c1 = 1 - 0.9 ** step,
        c2 = 1 - 0.999 ** step;
      for (const k of touched) {
        for (let j = 0; j < d; j++) {
          const x = k * d + j;
          const g = G[x] / B + l2 * W[x];
          m1[x] = 0.9 * m1[x] + 0.1 * g;
          m2[x] = 0.999 * m2[x] + 0.001 * g * g;
          W[x] -= (lr * (m1[x] / c1)) / (Math.sqrt(m2[x] / c2) + 1e-8);
          G[x] = 0;
        }
      }
      touched.clear();
      gb /= B;
      bm1 = 0.9 * bm1 + 0.1 * gb;
      bm2 = 0.999 * bm2 + 0.001 * gb * gb;
      bias -= (lr * (bm1 / c1)) / (Math.sqrt(bm2 / c2) + 1e-8);
    }
    o.say?.(`content part epoch ${ep + 1}/${epochs}: loss ${(loss / N).toFixed(4)}, bias ${bias.toFixed(3)}`);
  }
  return { vectors: W, bias };
}

/** Each item row's token indexes in `tokens` (row 0: none). */
export function rowTokenIndex(ids: string[], meta: Map<string, Content>, tokens: string[]): Int32Array[] {
  const index = new Map(tokens.map((x, k) => [x, k]));
  return [
    new Int32Array(0),
    ...ids.map((id) =>
      Int32Array.from(new Set(contentTokens(meta.get(id)).filter((x) => index.has(x))), (x) => index.get(x)!),
    ),
  ];
}

/**
 * A new product's prior and temperature, by maximum likelihood on validation: `held` rows (products kept
 * out of the content part's training) are known by their content only, the others by their learned rows,
 * as a catalog with new products is after deployment. Returns the scale and bias of the content logits.
 */
export function calibrateContent(
  users: Float32Array,
  targets: Int32Array,
  E: Float32Array,
  V: number,
  d: number,
  held: Int32Array,
  heldVectors: Float32Array,
): { scale: number; bias: number; logLik: number } {
  const N = targets.length,
    H = held.length;
  const isHeld = new Uint8Array(V);
  for (const r of held) isHeld[r] = 1;
  const warmMax = new Float32Array(N),
    warmSum = new Float64Array(N),
    warmTarget = new Float32Array(N),
    a = new Float32Array(N * H);
  for (let i = 0; i < N; i++) {
    const z = new Float64Array(V);
    let mx = -Infinity;
    for (let r = 1; r < V; r++) {
      if (isHeld[r]) continue;
      let s = 0;
      for (let j = 0; j < d; j++) s += users[i * d + j] * E[r * d + j];
      z[r] = s;
      if (s > mx) mx = s;
    }
    let t = 0;
    for (let r = 1; r < V; r++) if (!isHeld[r]) t += Math.exp(z[r] - mx);
    warmMax[i] = mx;
    warmSum[i] = t;
    warmTarget[i] = z[targets[i]];
    for (let k = 0; k < H; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += users[i * d + j] * heldVectors[k * d + j];
      a[i * H + k] = s;
    }
  }
  const heldIndex = new Map(Array.from(held, (r, k) => [r, k]));
  let best = { scale: 1, bias: 0, logLik: -Infinity };
  for (const scale of [0.5, 0.75, 1, 1.25, 1.5, 2])
    for (let bias = -6; bias <= 6; bias += 0.25) {
      let ll = 0;
      for (let i = 0; i < N; i++) {
        let den = warmSum[i];
        for (let k = 0; k < H; k++) den += Math.exp(scale * a[i * H + k] + bias - warmMax[i]);
        const k = heldIndex.get(targets[i]);
        const num = k === undefined ? warmTarget[i] - warmMax[i] : scale * a[i * H + k] + bias - warmMax[i];
        ll += num - Math.log(den);
      }
      if (ll > best.logLik) best = { scale, bias, logLik: ll };
    }
  return best;
}
