/** Loading the model runtime chunk and the model, once or again on another backend. */
import { asShelfwiseError, ShelfwiseError } from '../shared/index.js';
import type { BackendName, FileChecks, ModelRuntime, WasmPaths } from '../model/runtime.js';

export type RuntimeModule = typeof import('../model/runtime.js');

export interface LoaderDeps {
  importRuntime: () => Promise<RuntimeModule>;
  modelUrl: string;
  wasmPaths?: string;
  checks: FileChecks;
  report: (e: unknown) => void;
  /** No model at all (the experiment's control arm): nothing is fetched, `ready` is false at once. */
  disabled?: boolean;
  /** Called with each newly loaded runtime, before `ready` resolves (restore the adaptation, refresh grids). */
  loaded: (rt: ModelRuntime) => Promise<void>;
}

/**
 * Resolves once the shop's page has loaded and the browser is idle (at most 1 s after `load`): the model
 * and tfjs are fetched then, not while they would compete with the page's own first paint (unless a grid
 * holds its first view for the ranking: `ModelLoader.hurry`).
 */
function pageSettled(): Promise<void> {
  const d = globalThis.document;
  const idle = () =>
    new Promise<void>((r) => {
      const ric = (globalThis as { requestIdleCallback?: (f: () => void, o: { timeout: number }) => void })
        .requestIdleCallback;
      if (ric) ric(() => r(), { timeout: 1000 });
      else setTimeout(r, 0);
    });
  if (!d || d.readyState === 'complete') return idle();
  return new Promise<void>((r) => globalThis.addEventListener('load', () => r(), { once: true })).then(idle);
}

export class ModelLoader {
  private rt: ModelRuntime | null = null;
  private mod: RuntimeModule | null = null;
  private settled = false;
  private disposed = false;
  private hurried!: () => void;
  private readonly now = new Promise<void>((r) => (this.hurried = r));
  ready: Promise<boolean>;

  constructor(
    private readonly d: LoaderDeps,
    backend: BackendName | 'auto',
  ) {
    this.ready = this.load(backend);
  }

  /**
   * Starts the first load now instead of after the page's `load`: a grid with an anti-flicker hold waits
   * for its first ranking, and on a heavy page `load` comes after the hold has run out.
   */
  hurry(): void {
    this.hurried();
  }

  get runtime(): ModelRuntime | null {
    return this.rt;
  }
  get current(): { rt: ModelRuntime; mod: RuntimeModule } | null {
    return this.rt && this.mod ? { rt: this.rt, mod: this.mod } : null;
  }

  wasmBase(mod: RuntimeModule): WasmPaths {
    return this.d.wasmPaths ?? mod.WASM_FILES;
  }

  /** (Re)loads the model on `backend`; the current one serves until the new one is ready. */
  load(backend: BackendName | 'auto'): Promise<boolean> {
    if (this.d.disabled) {
      this.settled = true;
      return (this.ready = Promise.resolve(false));
    }
    this.settled = false;
    this.ready = (async () => {
      try {
        await Promise.race([this.now, pageSettled()]);
        const mod = await this.d.importRuntime();
        const rt = await mod.ModelRuntime.load(this.d.modelUrl, backend, this.wasmBase(mod), this.d.checks);
        if (this.disposed) {
          rt.dispose();
          return false;
        }
        this.rt?.dispose();
        this.rt = rt;
        // auto ran on another backend because the page's CSP forbids WebAssembly: the shop should know.
        const csp = /wasm: (the page's Content-Security-Policy[^;]*)/.exec(rt.backendReason);
        if (csp) this.d.report(new ShelfwiseError('csp_blocked', `${csp[1]}; running on ${rt.backend} meanwhile`));
        this.mod = mod;
        await this.d.loaded(rt);
        return true;
      } catch (e) {
        this.d.report(asShelfwiseError(e, 'model_failed', 'model could not be loaded: '));
        return false;
      } finally {
        this.settled = true;
      }
    })();
    return this.ready;
  }

  /**
   * The runtime for a ranking: at once when loaded; while the first load is still going, after it, for at
   * most `waitMs` (then null, with `model_not_ready` reported); null when the load failed.
   */
  async forRanking(waitMs: number): Promise<ModelRuntime | null> {
    if (this.rt || this.settled) return this.rt;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      this.ready.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), waitMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut && !this.rt)
      this.d.report(
        new ShelfwiseError(
          'model_not_ready',
          `the model was not loaded within ${waitMs} ms: this ranking keeps the merchant's order`,
        ),
      );
    return this.rt;
  }

  dispose(): void {
    this.disposed = true;
    this.rt?.dispose();
    this.rt = null;
  }
}
