/**
 * Layer normalization as one kernel on the backends whose tensors JavaScript can read in place (wasm: the
 * module's heap; cpu: typed arrays). tfjs composes it from nine kernels (mean, subtract, square, mean,
 * add, rsqrt, two multiplies, add), each with its own bookkeeping: for the one-row step of an interaction
 * that overhead is the whole cost (45 of the step's 97 kernels). The encoder's `layerNorm` uses this kernel
 * where it is registered and no gradient is being recorded (inference); the composite elsewhere (training,
 * webgl, webgpu). Same math: (x - mean) · rsqrt(var + eps) · g + b over the last axis.
 */
import * as tf from '@tensorflow/tfjs-core';

export const LAYER_NORM = 'ShelfwiseLayerNorm';
export const LN_EPS = 1e-6;

/** Normalizes each row of `x` ([rows, d]) into `out`. */
export function layerNormRows(
  x: Float32Array,
  g: Float32Array,
  b: Float32Array,
  out: Float32Array,
  d: number,
  eps: number,
): void {
  for (let o = 0; o < x.length; o += d) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x[o + j];
    mean /= d;
    let v = 0;
    for (let j = 0; j < d; j++) {
      const c = x[o + j] - mean;
      v += c * c;
    }
    const r = 1 / Math.sqrt(v / d + eps);
    for (let j = 0; j < d; j++) out[o + j] = (x[o + j] - mean) * r * g[j] + b[j];
  }
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}
interface CpuBackend {
  data: { get(id: tf.DataId): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

const kernels: Record<string, tf.KernelFunc> = {
  wasm: ({ inputs, backend }) => {
    const be = backend as unknown as HeapBackend;
    const { x, g, b } = inputs as { x: tf.TensorInfo; g: tf.TensorInfo; b: tf.TensorInfo };
    // The output first: allocating can grow the heap, which detaches views taken before.
    const out = be.makeOutput(x.shape, 'float32');
    layerNormRows(
      be.typedArrayFromHeap(x),
      be.typedArrayFromHeap(g),
      be.typedArrayFromHeap(b),
      be.typedArrayFromHeap(out),
      x.shape[x.shape.length - 1],
      LN_EPS,
    );
    return out;
  },
  cpu: ({ inputs, backend }) => {
    const be = backend as unknown as CpuBackend;
    const { x, g, b } = inputs as { x: tf.TensorInfo; g: tf.TensorInfo; b: tf.TensorInfo };
    const v = (t: tf.TensorInfo) => be.data.get(t.dataId).values;
    const out = new Float32Array(tf.util.sizeFromShape(x.shape));
    layerNormRows(v(x), v(g), v(b), out, x.shape[x.shape.length - 1], LN_EPS);
    return be.makeTensorInfo(x.shape, 'float32', out);
  },
};

export const SOFTMAX_LSE = 'ShelfwiseSoftmaxLse';

// exp(x) for the softmax: x = (k/16)·ln 2 + r with |r| ≤ ln 2 / 32, 2^(k/16) from a table, e^r from its cubic
// Taylor polynomial (relative error below 1e-8, under float32's 6e-8), about 3× faster than Math.exp here.
const ROUND = 6755399441055744; // 1.5 · 2^52: adding and subtracting it rounds a double to an integer
const K_MIN = -17200; // 2^(K_MIN/16) < exp(-745), the smallest double
let pow2Sixteenths: Float64Array | null = null;
function fastExp(x: number, t: Float64Array): number {
  if (x < -745) return 0;
  const k = x * 23.083120654223414 + ROUND - ROUND; // x · 16 / ln 2, rounded
  const r = x - k * 0.04332169878499658; // ln 2 / 16
  return (1 + r * (1 + r * (0.5 + r * 0.16666666666666666))) * t[(k - K_MIN) | 0];
}

/**
 * Each row of `x` ([rows, n]): its log-sum-exp into `lse`, and its softmax as `e` (exp(x - the row's maximum),
 * 0 at the left-out columns) times `inv` (one per row), leaving out of row r the columns
 * cols[offsets[r] .. offsets[r + 1]) (each listed once). Two passes over the matrix (the maximum, the
 * exponentials); sums in double precision. The softmax stays unnormalized: its one use, the gradient,
 * scales each row anyway.
 */
export function softmaxLseRows(
  x: Float32Array,
  n: number,
  offsets: Int32Array,
  cols: Int32Array,
  lse: Float32Array,
  p: Float32Array,
  inv: Float32Array,
): void {
  const t = (pow2Sixteenths ??= Float64Array.from({ length: 16 - K_MIN }, (_, i) => Math.pow(2, (i + K_MIN) / 16)));
  for (let r = 0, o = 0; r < lse.length; r++, o += n) {
    let m = -Infinity;
    for (let j = o; j < o + n; j++) if (x[j] > m) m = x[j];
    let s = 0;
    for (let j = o; j < o + n; j++) {
      const e = fastExp(x[j] - m, t);
      p[j] = e;
      s += e;
    }
    // The left-out columns' share, subtracted in double precision (not from the float32 copies in p).
    let out = 0;
    for (let k = offsets[r]; k < offsets[r + 1]; k++) {
      out += fastExp(x[o + cols[k]] - m, t);
      p[o + cols[k]] = 0;
    }
    if (out > 0 && s - out < 1e-6 * s) {
      // Nearly all the mass is on left-out columns: the maximum over the rest, so nothing underflows.
      const left = new Set<number>();
      for (let k = offsets[r]; k < offsets[r + 1]; k++) left.add(cols[k]);
      m = -Infinity;
      for (let j = 0; j < n; j++) if (!left.has(j) && x[o + j] > m) m = x[o + j];
      s = 0;
      for (let j = 0; j < n; j++) {
        const e = left.has(j) ? 0 : fastExp(x[o + j] - m, t);
        p[o + j] = e;
        s += e;
      }
      out = 0;
    }
    s -= out;
    inv[r] = 1 / s;
    lse[r] = m + Math.log(s);
  }
}

const softmaxKernels: Record<string, tf.KernelFunc> = {
  wasm: ({ inputs, backend }) => {
    const be = backend as unknown as HeapBackend;
    const { x, offsets, cols } = inputs as { x: tf.TensorInfo; offsets: tf.TensorInfo; cols: tf.TensorInfo };
    const lse = be.makeOutput([x.shape[0]], 'float32'),
      p = be.makeOutput(x.shape, 'float32'),
      inv = be.makeOutput([x.shape[0], 1], 'float32');
    const h = (t: tf.TensorInfo) => be.typedArrayFromHeap(t);
    softmaxLseRows(
      h(x),
      x.shape[1],
      h(offsets) as unknown as Int32Array,
      h(cols) as unknown as Int32Array,
      h(lse),
      h(p),
      h(inv),
    );
    return [lse, p, inv];
  },
  cpu: ({ inputs, backend }) => {
    const be = backend as unknown as CpuBackend;
    const { x, offsets, cols } = inputs as { x: tf.TensorInfo; offsets: tf.TensorInfo; cols: tf.TensorInfo };
    const v = (t: tf.TensorInfo) => be.data.get(t.dataId).values;
    const lse = new Float32Array(x.shape[0]),
      p = new Float32Array(tf.util.sizeFromShape(x.shape)),
      inv = new Float32Array(x.shape[0]);
    softmaxLseRows(
      v(x),
      x.shape[1],
      v(offsets) as unknown as Int32Array,
      v(cols) as unknown as Int32Array,
      lse,
      p,
      inv,
    );
    return [
      be.makeTensorInfo([x.shape[0]], 'float32', lse),
      be.makeTensorInfo(x.shape, 'float32', p),
      be.makeTensorInfo([x.shape[0], 1], 'float32', inv),
    ];
  },
};

for (const backendName of Object.keys(kernels)) {
  if (!tf.getKernel(LAYER_NORM, backendName))
    tf.registerKernel({ kernelName: LAYER_NORM, backendName, kernelFunc: kernels[backendName] });
  if (!tf.getKernel(SOFTMAX_LSE, backendName))
    tf.registerKernel({ kernelName: SOFTMAX_LSE, backendName, kernelFunc: softmaxKernels[backendName] });
}

/** Which kernels the current backend has, looked up once per backend (the encoder asks on every op it builds). */
let known: { backend: string; has: Map<string, boolean> } | null = null;

/** Whether the current backend has the kernel `name` registered. */
export function hasKernel(name: string): boolean {
  const backend = tf.getBackend();
  if (!known || known.backend !== backend) known = { backend, has: new Map() };
  let has = known.has.get(name);
  if (has === undefined) known.has.set(name, (has = tf.getKernel(name, backend) !== undefined));
  return has;
}

/** Whether the current backend has the one-kernel layer norm. */
export const hasLayerNormKernel = (): boolean => hasKernel(LAYER_NORM);

/** The one-kernel layer norm of `x` ([rows, d], float32) with gain `g` and bias `b` ([d]). */
export function layerNormKernel(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.engine().runKernel(LAYER_NORM, { x, g, b }) as tf.Tensor2D;
}

/** Whether the current backend has the one-kernel softmax with log-sum-exp. */
export const hasSoftmaxKernel = (): boolean => hasKernel(SOFTMAX_LSE);

/**
 * Row-wise log-sum-exp of `x` ([rows, n]) and its softmax (as e [rows, n] times inv [rows, 1]), in one kernel,
 * with the columns listed for each row (`offsets` [rows + 1] into `cols`, int32) left out.
 */
export function softmaxLseKernel(
  x: tf.Tensor2D,
  offsets: tf.Tensor1D,
  cols: tf.Tensor1D,
): [tf.Tensor1D, tf.Tensor2D, tf.Tensor2D] {
  return tf.engine().runKernel(SOFTMAX_LSE, { x, offsets, cols }) as unknown as [tf.Tensor1D, tf.Tensor2D, tf.Tensor2D];
}
