/**
 * A data-parallel training helper (worker_threads): it holds a copy of the encoder's parameters on its own
 * wasm backend and returns the gradient of the next-item loss over its share of each batch. The trainer
 * sends the current parameters with every share and applies Adam itself, so every copy stays identical.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { paramShapes, nextItemLoss } from '../../src/model/encoder.js';
import type { ModelConfig } from '../../src/model/config.js';
import { initBackend } from './backend.js';
import { concatFloat32, type InitRequest, type ShareRequest, type ShareResult } from './grad-protocol.js';

let cfg: ModelConfig;
let vars: Array<[string, tf.Variable]> = [];

async function onMessage(msg: Partial<InitRequest> & { share?: ShareRequest }) {
  try {
    if (msg.init) {
      cfg = msg.init;
      await initBackend('wasm');
      vars = paramShapes(cfg).map(([name, shape]) => [name, tf.variable(tf.zeros(shape), true, name)]);
      parentPort!.postMessage({ ready: true });
      return;
    }
    const r = msg.share!;
    let off = 0;
    for (const [, v] of vars) {
      const n = v.size;
      const t = tf.tensor(r.params.subarray(off, off + n), v.shape);
      v.assign(t);
      t.dispose();
      off += n;
    }
    const params = Object.fromEntries(vars);
    const { value, grads } = tf.variableGrads(
      () => nextItemLoss(params, cfg, r.inp, r.targets, { ...r.loss, training: true, seed: r.seed }),
      vars.map(([, v]) => v),
    );
    const out = concatFloat32(
      vars.map(([name, v]) => {
        const g = grads[name];
        if (!g) return new Float32Array(v.size); // a parameter the loss does not reach
        const d = g.dataSync() as Float32Array;
        g.dispose();
        return d;
      }),
    );
    const loss = value.dataSync()[0];
    value.dispose();
    parentPort!.postMessage({ loss, grads: out } satisfies ShareResult, [out.buffer]);
  } catch (e) {
    parentPort!.postMessage({
      loss: NaN,
      grads: new Float32Array(0),
      error: String((e as Error)?.stack ?? e),
    } satisfies ShareResult);
  }
}

// onMessage answers every message itself, errors included.
parentPort!.on('message', (msg: Partial<InitRequest> & { share?: ShareRequest }) => void onMessage(msg));
