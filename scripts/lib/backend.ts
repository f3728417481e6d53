/** The tfjs backend Node training and evaluation run on. */
import path from 'node:path';
import { createRequire } from 'node:module';
// The union package's Node build registers every gradient (tfjs-core's Node build alone has none).
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';

const require = createRequire(import.meta.url);

/** The values of `--backend` (and SHELFWISE_BACKEND). */
export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

/** tfjs-node if the user installed it (native TensorFlow), otherwise tfjs's wasm backend. */
export async function initBackend(prefer: string = process.env.SHELFWISE_BACKEND ?? 'auto'): Promise<string> {
  if (!(BACKENDS as readonly string[]).includes(prefer))
    throw new Error(`unknown backend "${prefer}": expected one of ${BACKENDS.join(', ')}`);
  if (prefer === 'tensorflow' || prefer === 'auto') {
    try {
      const name = '@tensorflow/tfjs-node';
      await import(name);
      await tf.setBackend('tensorflow');
      return 'tensorflow';
    } catch {
      if (prefer === 'tensorflow') throw new Error('@tensorflow/tfjs-node is not installed');
    }
  }
  if (prefer === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    return 'cpu';
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialize');
  return 'wasm';
}

/** Matmul throughput of the current backend on a shape like the output layer's ([rows, d] x [d, V]). */
export function matmulPeak(d: number, catalog: number): number {
  // The catalog's width up to 8,192 columns: a million-product product would not fit the wasm heap.
  const V = Math.min(catalog, 8192);
  return tf.tidy(() => {
    const a = tf.randomNormal([2048, d]),
      b = tf.randomNormal([d, V]);
    tf.matMul(a, b).dataSync();
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) tf.matMul(a, b).dataSync();
    return (3 * 2 * 2048 * d * V) / ((performance.now() - t0) / 1000) / 1e9;
  });
}
