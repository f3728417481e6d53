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
export function layerNormRows(x: Float32Array, g: Float32Array, b: Float32Array, out: Float32Array, d: number, eps: number): void {
  for (let o = 0; o < x.length; o += d) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x[o + j];
    mean /= d;
    let v = 0;
    for (let j = 0; j < d; j++) { const c = x[o + j] - mean; v += c * c; }
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
    layerNormRows(be.typedArrayFromHeap(x), be.typedArrayFromHeap(g), be.typedArrayFromHeap(b), be.typedArrayFromHeap(out), x.shape[x.shape.length - 1], LN_EPS);
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

for (const backendName of Object.keys(kernels)) {
  if (!tf.getKernel(LAYER_NORM, backendName)) tf.registerKernel({ kernelName: LAYER_NORM, backendName, kernelFunc: kernels[backendName] });
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
  return tf.engine().runKernel(LAYER_NORM, { x, g, b } as unknown as tf.NamedTensorMap) as tf.Tensor2D;
}
