/** The trainer's gradient worker threads (data parallel). */
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../src/model/config.js';
import { concatFloat32, type ShareRequest, type ShareResult } from './grad-protocol.js';

/**
 * Gradient helpers on worker threads (scripts/lib/grad-worker.ts). `grads` returns, for one share of a
 * batch, the loss and the flattened gradient in `paramShapes` order.
 */
export class GradWorkers {
  private ws: Worker[];
  private constructor(ws: Worker[]) {
    this.ws = ws;
  }

  get size(): number {
    return this.ws.length;
  }

  static async start(n: number, cfg: ModelConfig): Promise<GradWorkers> {
    // From source the worker is TypeScript: it registers tsx's loader in its own thread, then imports the
    // file; in the installed package (dist/cli/) it is the built grad-worker.js beside this chunk.
    const built = import.meta.url.endsWith('.js');
    const url = new URL(built ? './grad-worker.js' : './grad-worker.ts', import.meta.url).href;
    const boot = built
      ? `import(${JSON.stringify(url)})`
      : `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
    const ws = Array.from({ length: n }, () => new Worker(boot, { eval: true }));
    await Promise.all(ws.map((w) => GradWorkers.call(w, { init: cfg })));
    return new GradWorkers(ws);
  }

  private static call<T>(w: Worker, msg: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMsg = (m: T & { error?: string }) => {
        off();
        if (m.error) reject(new Error('gradient worker: ' + m.error));
        else resolve(m);
      };
      const onErr = (e: Error) => {
        off();
        reject(e);
      };
      const off = () => {
        w.off('message', onMsg);
        w.off('error', onErr);
      };
      w.on('message', onMsg);
      w.on('error', onErr);
      w.postMessage(msg);
    });
  }

  grads(i: number, share: ShareRequest): Promise<ShareResult> {
    return GradWorkers.call(this.ws[i], { share });
  }

  async close(): Promise<void> {
    await Promise.all(this.ws.map((w) => w.terminate()));
  }
}

/** The parameters flattened in `paramShapes` order (what the gradient workers load). */
export function flatParams(params: Record<string, tf.Variable>, names: string[]): Float32Array {
  return concatFloat32(names.map((k) => params[k].dataSync() as Float32Array));
}
