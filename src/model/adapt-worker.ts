/**
 * The fine-tuning worker (a module worker started by runtime.ts's Adapter when `finetune` is on). It loads
 * the same model with the same engine and encoder code as the page, and for each update computes the
 * hidden states of the shopper's window and runs the guarded recipe of finetune.ts. The page stores and
 * applies what it sends back; nothing here touches the page's thread.
 */
import { ModelRuntime } from './engine.js';
import { guardedFinetune, FINETUNE_DEFAULTS } from './finetune.js';
import type { FromWorker, ToWorker } from './adapt-protocol.js';
import { ShelfwiseError } from '../shared/index.js';
import * as tf from '@tensorflow/tfjs-core';

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(m: FromWorker, transfer?: Transferable[]): void;
};
let rt: ModelRuntime | null = null;
// One message at a time, in order: an update waits for the init before it.
let queue: Promise<void> = Promise.resolve();

async function handle(m: ToWorker): Promise<void> {
  try {
    if (m.type === 'init') {
      rt?.dispose();
      rt = await ModelRuntime.load(m.url, m.backend, m.wasmBase, m.checks);
      scope.postMessage({ type: 'ready', id: m.id, backend: rt.backend, version: rt.version });
      return;
    }
    if (!rt) throw new ShelfwiseError('finetune_failed', 'the fine-tuning worker has no model');
    const t0 = performance.now();
    await rt.ensure(m.history.map((e) => e.itemId));
    const { hidden, rows } = await rt.hiddenStates(m.history);
    const t1 = performance.now();
    const r = guardedFinetune(hidden, rows, rt.itemEmb, rt.V, rt.cfg.d, m.options);
    const totalMs = performance.now() - t0;
    const steps = m.options.steps ?? FINETUNE_DEFAULTS.steps;
    const fitMs = r.fitMs ?? 0;
    const mem = tf.memory();
    scope.postMessage({
      type: 'result',
      id: m.id,
      result: {
        ...r,
        version: rt.version,
        events: rows.length,
        timings: { embedMs: t1 - t0, fitMs, stepMs: fitMs / Math.max(1, steps), guardMs: r.guardMs ?? 0, totalMs },
        memory: { numTensors: mem.numTensors, numBytes: mem.numBytes },
      },
    });
  } catch (e) {
    const err = e as ShelfwiseError;
    scope.postMessage({
      type: 'error',
      id: m.id,
      code: err?.code ?? 'finetune_failed',
      message: String(err?.message ?? e),
    });
  }
}

scope.onmessage = (e) => {
  queue = queue.then(() => handle(e.data));
};
