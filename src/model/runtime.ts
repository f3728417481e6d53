/**
 * The lazily loaded runtime chunk: the model engine (tfjs, backends, incremental re-embedding) and the
 * client of the fine-tuning worker. Only the page's core imports it, when a model is to be loaded.
 */
import type { BackendName, FileChecks, ModelEvent, WasmPaths } from './engine.js';
import type { FinetuneOptions } from './finetune.js';
import type { FromWorker, ToWorker, UpdateResult } from './adapt-protocol.js';
import { ShelfwiseError } from '../shared/index.js';

export * from './engine.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type { UpdateResult } from './adapt-protocol.js';

/** Where this chunk was loaded from. */
export const RUNTIME_URL: string = import.meta.url;

/**
 * The wasm binaries, in dist/wasm/ beside this chunk's folder. Written as `new URL('<literal>',
 * import.meta.url)` so that an app's bundler (Vite, webpack, Parcel) copies them into its own output and
 * rewrites these URLs; served from dist/ as it is (script tag, CDN), they resolve there.
 */
export const WASM_FILES: Record<string, string> = {
  'tfjs-backend-wasm.wasm': new URL('../wasm/tfjs-backend-wasm.wasm', import.meta.url).href,
  'tfjs-backend-wasm-simd.wasm': new URL('../wasm/tfjs-backend-wasm-simd.wasm', import.meta.url).href,
  'tfjs-backend-wasm-threaded-simd.wasm': new URL('../wasm/tfjs-backend-wasm-threaded-simd.wasm', import.meta.url).href,
};

/** The worker's module URL, beside this chunk. */
export const WORKER_URL: string = new URL('./adapt-worker.js', import.meta.url).href;

/** Absolute URLs (the worker has no page to resolve against). */
function absoluteWasmPaths(w: WasmPaths): WasmPaths {
  const abs = (u: string) => new URL(u, location.href).href;
  return typeof w === 'string' ? abs(w) : Object.fromEntries(Object.entries(w).map(([k, u]) => [k, abs(u)]));
}

/** Starts the worker: `url`, else the one beside this chunk (in the form bundlers recognize and bundle). */
function spawn(url?: string): Worker {
  try {
    return url
      ? new Worker(url, { type: 'module', name: 'shelfwise-finetune' })
      : new Worker(new URL('./adapt-worker.js', import.meta.url), { type: 'module', name: 'shelfwise-finetune' });
  } catch (e) {
    // A worker must be same-origin with the page; an SDK served from a CDN is started through a blob
    // module that imports it (the CDN serves CORS headers for the ES module build).
    if ((e as DOMException)?.name !== 'SecurityError') throw e;
    const blob = new Blob([`import ${JSON.stringify(url ?? WORKER_URL)};`], { type: 'text/javascript' });
    return new Worker(URL.createObjectURL(blob), { type: 'module', name: 'shelfwise-finetune' });
  }
}

/**
 * The page's side of the fine-tuning worker: starts it, loads the model there, and sends updates. Every
 * request is answered (or rejected with a ShelfwiseError, also when the worker dies).
 */
export class Adapter {
  private seq = 0;
  private pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: ShelfwiseError) => void }>();
  private closed = false;
  get alive(): boolean {
    return !this.closed;
  }
  backend: BackendName | null = null;
  version: string | null = null;

  private constructor(private readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const p = this.pending.get(e.data.id);
      if (!p) return;
      this.pending.delete(e.data.id);
      if (e.data.type === 'error') p.reject(new ShelfwiseError(e.data.code, `fine-tuning worker: ${e.data.message}`));
      else p.resolve(e.data);
    };
    // A worker that errors is finished: what is pending is rejected, and so is every later request.
    const fail = (why: string) => {
      this.closed = true;
      worker.terminate();
      for (const p of this.pending.values())
        p.reject(new ShelfwiseError('finetune_failed', `fine-tuning worker: ${why}`));
      this.pending.clear();
    };
    worker.onerror = (e) => {
      e.preventDefault?.();
      fail(e.message || 'the worker failed to start');
    };
    worker.onmessageerror = () => fail('a message could not be read');
  }

  private send(m: DistributiveOmit<ToWorker, 'id'>, transfer: Transferable[] = []): Promise<FromWorker> {
    if (this.closed) return Promise.reject(new ShelfwiseError('disposed', 'the fine-tuning worker was stopped'));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id }, transfer);
    });
  }

  /** Starts the worker and loads the model in it (absolute URLs: the worker has no page to resolve against). */
  static async start(
    modelUrl: string,
    backend: BackendName | 'auto',
    wasm: WasmPaths,
    checks: FileChecks,
    workerUrl?: string,
  ): Promise<Adapter> {
    let w: Worker;
    try {
      w = spawn(workerUrl);
    } catch (e) {
      throw new ShelfwiseError(
        'finetune_failed',
        `the fine-tuning worker could not start: ${(e as Error)?.message ?? e}`,
        { cause: e },
      );
    }
    const a = new Adapter(w);
    try {
      const r = await a.send({
        type: 'init',
        url: new URL(modelUrl, location.href).href,
        backend,
        wasmBase: absoluteWasmPaths(wasm),
        checks,
      });
      if (r.type === 'ready') {
        a.backend = r.backend;
        a.version = r.version;
      }
    } catch (e) {
      a.dispose();
      throw e;
    }
    return a;
  }

  /** One guarded fine-tuning update on this history (oldest first). */
  async update(history: ModelEvent[], options: FinetuneOptions): Promise<UpdateResult> {
    const r = await this.send({ type: 'update', history, options });
    if (r.type !== 'result') throw new ShelfwiseError('finetune_failed', 'fine-tuning worker: unexpected answer');
    return r.result;
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker.terminate();
    for (const p of this.pending.values())
      p.reject(new ShelfwiseError('disposed', 'the fine-tuning worker was stopped'));
    this.pending.clear();
  }
}
