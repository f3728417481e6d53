/**
 * Item embeddings that start from what goes together: the cosine of items bought or viewed in one session
 * (gaps under 30 minutes; c_ij / √(c_i c_j)), factorized to d dimensions (the top eigenvectors of the
 * symmetric matrix, by randomized subspace iteration over its sparse rows). The item table is shared by the
 * model's input and its output, so from the first step a visit's items point at their companions; training
 * then moves them where the sequence loss wants them. Items without a companion keep their random start.
 */
import { sameSession, type Seq } from './split.js';
import { rng } from './windows.js';

interface Sparse {
  /** Row offsets into cols/vals, V + 1 of them. */
  off: Int32Array;
  cols: Int32Array;
  vals: Float32Array;
}

/** The cosine of session co-occurrence over item rows 1..V-1 (sessions over 100 items are skipped). */
export function sessionCosine(train: Seq[], V: number): Sparse {
  const rows = Array.from({ length: V }, () => new Map<number, number>());
  const addSession = (set: Set<number>) => {
    if (set.size < 2 || set.size > 100) return;
    const a = [...set];
    for (let i = 0; i < a.length; i++)
      for (let j = i + 1; j < a.length; j++) {
        rows[a[i]].set(a[j], (rows[a[i]].get(a[j]) ?? 0) + 1);
        rows[a[j]].set(a[i], (rows[a[j]].get(a[i]) ?? 0) + 1);
      }
  };
  for (const s of train) {
    let set = new Set<number>();
    for (let i = 0; i < s.items.length; i++) {
      if (i > 0 && !sameSession(s, i - 1, i)) {
        addSession(set);
        set = new Set();
      }
      if (s.items[i] > 0) set.add(s.items[i]);
    }
    addSession(set);
  }
  const marg = new Float64Array(V);
  rows.forEach((m, i) => m.forEach((c) => (marg[i] += c)));
  const off = new Int32Array(V + 1);
  const cols: number[] = [],
    vals: number[] = [];
  for (let i = 0; i < V; i++) {
    for (const [j, c] of rows[i]) {
      cols.push(j);
      vals.push(c / Math.sqrt(marg[i] * marg[j]));
    }
    off[i + 1] = cols.length;
  }
  return { off, cols: Int32Array.from(cols), vals: Float32Array.from(vals) };
}

/** out = M · X for sparse symmetric M [V, V] and dense X [V, k] (row-major). */
function spmm(m: Sparse, x: Float64Array, k: number): Float64Array {
  const V = m.off.length - 1;
  const out = new Float64Array(V * k);
  for (let i = 0; i < V; i++)
    for (let p = m.off[i]; p < m.off[i + 1]; p++) {
      const j = m.cols[p],
        v = m.vals[p];
      for (let c = 0; c < k; c++) out[i * k + c] += v * x[j * k + c];
    }
  return out;
}

/** Orthonormalizes the k columns of X [V, k] in place (modified Gram-Schmidt). */
function orthonormalize(x: Float64Array, V: number, k: number): void {
  for (let c = 0; c < k; c++) {
    for (let q = 0; q < c; q++) {
      let dot = 0;
      for (let i = 0; i < V; i++) dot += x[i * k + c] * x[i * k + q];
      for (let i = 0; i < V; i++) x[i * k + c] -= dot * x[i * k + q];
    }
    let norm = 0;
    for (let i = 0; i < V; i++) norm += x[i * k + c] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < V; i++) x[i * k + c] /= norm;
  }
}

/** Eigen-decomposition of a small symmetric matrix [k, k] by Jacobi rotations: values and vectors (columns). */
function jacobi(a: Float64Array, k: number): { values: Float64Array; vectors: Float64Array } {
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += a[p * k + q] ** 2;
    if (off < 1e-18) break;
    for (let p = 0; p < k; p++)
      for (let q = p + 1; q < k; q++) {
        const apq = a[p * k + q];
        if (Math.abs(apq) < 1e-15) continue;
        const theta = (a[q * k + q] - a[p * k + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = a[r * k + p],
            arq = a[r * k + q];
          a[r * k + p] = c * arp - s * arq;
          a[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = a[p * k + r],
            aqr = a[q * k + r];
          a[p * k + r] = c * apr - s * aqr;
          a[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p],
            vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
  }
  return { values: Float64Array.from({ length: k }, (_, i) => a[i * k + i]), vectors: v };
}

/**
 * The item table [V, d] (row 0 zero): rows of items with companions from the factorization, scaled to
 * the random start's mean norm (std·√d); the others from `random` as they were.
 */
export function cooccurrenceItemTable(
  train: Seq[],
  random: Float32Array,
  V: number,
  d: number,
  seed = 1,
): Float32Array {
  const m = sessionCosine(train, V);
  const k = d + 8;
  const rand = rng(seed);
  let x: Float64Array = Float64Array.from({ length: V * k }, () => rand() - 0.5);
  orthonormalize(x, V, k);
  for (let it = 0; it < 4; it++) {
    x = spmm(m, x, k);
    orthonormalize(x, V, k);
  }
  // B = Xᵀ M X [k, k], its eigenvectors rotate X; the d largest eigenvalues (positive part) weigh the columns.
  const mx = spmm(m, x, k);
  const b = new Float64Array(k * k);
  for (let i = 0; i < V; i++)
    for (let p = 0; p < k; p++) {
      const xp = x[i * k + p];
      if (xp) for (let q = 0; q < k; q++) b[p * k + q] += xp * mx[i * k + q];
    }
  const { values, vectors } = jacobi(b, k);
  const order = Array.from({ length: k }, (_, i) => i)
    .sort((p, q) => values[q] - values[p])
    .slice(0, d);
  const out = Float32Array.from(random);
  let randNorm = 0,
    n = 0;
  for (let i = 1; i < V; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += random[i * d + c] ** 2;
    randNorm += Math.sqrt(s);
    n++;
  }
  randNorm /= Math.max(1, n);
  const rowsOut = new Float64Array(V * d);
  const norms = new Float64Array(V);
  for (let i = 1; i < V; i++) {
    if (m.off[i + 1] === m.off[i]) continue;
    for (let c = 0; c < d; c++) {
      const e = order[c];
      let s = 0;
      for (let q = 0; q < k; q++) s += x[i * k + q] * vectors[q * k + e];
      rowsOut[i * d + c] = s * Math.sqrt(Math.max(0, values[e]));
    }
    for (let c = 0; c < d; c++) norms[i] += rowsOut[i * d + c] ** 2;
    norms[i] = Math.sqrt(norms[i]);
  }
  let mean = 0,
    cnt = 0;
  for (let i = 1; i < V; i++)
    if (norms[i] > 0) {
      mean += norms[i];
      cnt++;
    }
  mean /= Math.max(1, cnt);
  if (!(mean > 0)) return out;
  for (let i = 1; i < V; i++)
    if (norms[i] > 0) for (let c = 0; c < d; c++) out[i * d + c] = (rowsOut[i * d + c] / mean) * randNorm;
  return out;
}
