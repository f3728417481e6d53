/**
 * The on-device fine-tuning controller: runs guarded updates in a worker (started on the first update,
 * never when `finetune` is off), applies and stores the result per model version, and restores it on load.
 */
import { asShelfwiseError, ShelfwiseError } from '../shared/index.js';
import type { ShelfwiseEvent } from '../events/index.js';
import type { Adapter, FileChecks, ModelRuntime, UpdateResult, WasmPaths } from '../model/runtime.js';
import type { RuntimeModule } from './load.js';
import type { FinetuneConfig, FinetuneInfo } from './types.js';
import { modelHistory } from './pipeline.js';

/** What is stored in the kv store under ADAPT_KEY. */
interface StoredAdaptation {
  version: string;
  bias: number[] | null;
  before: number;
  after: number;
  events: number;
  at: number;
}
const ADAPT_KEY = 'adaptation';

export interface AdaptationDeps {
  config: FinetuneConfig;
  modelUrl: string;
  wasmBase: (mod: RuntimeModule) => WasmPaths;
  checks: FileChecks;
  /** The loaded model (after `ready`) and the runtime module it came from. */
  current: () => { rt: ModelRuntime; mod: RuntimeModule } | null;
  ready: () => Promise<boolean>;
  history: () => Promise<ShelfwiseEvent[]>;
  kv: () => {
    getKV<T>(k: string): Promise<T | undefined>;
    setKV(k: string, v: unknown): Promise<void>;
    deleteKV(k: string): Promise<void>;
  };
  report: (e: unknown) => void;
  onInfo?: (info: FinetuneInfo) => void;
}

export class AdaptationController {
  private adapter: Promise<Adapter> | null = null;
  private info: FinetuneInfo | null = null;
  private newEvents = 0;
  private gen = 0;
  private scheduled = false;
  private failures = 0;
  private off = false;
  private run: Promise<FinetuneInfo | null> = Promise.resolve(null);
  private disposed = false;

  constructor(private readonly d: AdaptationDeps) {}

  get state(): FinetuneInfo | null {
    return this.info;
  }

  /** This page tracked `n` events: an update follows every `everyEvents`. */
  tracked(n: number): void {
    if ((this.newEvents += n) >= (this.d.config.everyEvents ?? 5)) this.schedule();
  }

  /** The history changed under the adaptation (forget() here or in another tab): it no longer applies. */
  drop(): void {
    this.gen++;
    this.newEvents = 0;
    this.info = null;
    this.d.current()?.rt.setBias(null);
  }

  /** Applies the adaptation stored for this model version, if any. */
  async restore(rt: ModelRuntime): Promise<void> {
    let saved: StoredAdaptation | undefined;
    try {
      saved = await this.d.kv().getKV<StoredAdaptation>(ADAPT_KEY);
    } catch (e) {
      this.d.report(e);
      return;
    }
    if (!saved) return;
    if (saved.version !== rt.version) {
      await this.d.kv().deleteKV(ADAPT_KEY).catch(this.d.report);
      return;
    } // another model's
    try {
      rt.setBias(saved.bias);
    } catch (e) {
      this.d.report(
        new ShelfwiseError(
          'finetune_invalid',
          `the stored adaptation was invalid and is discarded: ${(e as Error).message}`,
        ),
      );
      await this.d.kv().deleteKV(ADAPT_KEY).catch(this.d.report);
      return;
    }
    this.emit({
      status: 'restored',
      version: saved.version,
      before: saved.before,
      after: saved.after,
      events: saved.events,
      active: !!saved.bias,
      at: saved.at,
    });
  }

  /**
   * Events stored before this page started that the stored adaptation has not seen (another visit, another
   * tab): one update once the page is idle. `trackedHere` stands the check down once this page has tracked
   * anything: its own events count toward `everyEvents`, and their timestamps may be the shop's own.
   */
  async catchUp(trackedHere: () => boolean): Promise<void> {
    if (!(await this.d.ready()) || trackedHere()) return;
    const all = await this.d.history().catch(() => []);
    if (trackedHere()) return;
    const h = modelHistory(all);
    const last = h[h.length - 1];
    if (h.length >= 3 && (!this.info || this.info.at < last.ts)) this.schedule();
  }

  /** Runs an update now (after the ones already queued). */
  now(): Promise<FinetuneInfo | null> {
    this.run = this.run
      .then(() => this.update())
      .catch((e) => {
        this.d.report(asShelfwiseError(e, 'finetune_failed'));
        return null;
      });
    return this.run;
  }

  private schedule(): void {
    if (this.scheduled || this.disposed) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      void this.now();
    };
    const ric = (globalThis as { requestIdleCallback?: (f: () => void, o: { timeout: number }) => void })
      .requestIdleCallback;
    if (ric) ric(go, { timeout: 5000 });
    else setTimeout(go, 300);
  }

  private emit(info: FinetuneInfo): FinetuneInfo {
    this.info = info;
    try {
      this.d.onInfo?.(info);
    } catch {
      /* the shop's handler must not break us */
    }
    return info;
  }

  private async update(): Promise<FinetuneInfo | null> {
    const gen = this.gen,
      ft = this.d.config;
    await this.d.ready();
    const cur = this.d.current();
    if (this.off || !cur || this.disposed) return null;
    const { rt, mod } = cur;
    this.newEvents = 0;
    const history = modelHistory(await this.d.history());
    this.adapter ??= mod.Adapter.start(this.d.modelUrl, ft.backend ?? 'wasm', this.d.wasmBase(mod), this.d.checks);
    let r: UpdateResult;
    try {
      r = await (await this.adapter).update(history, { steps: ft.steps, lr: ft.lr, l2: ft.l2 });
    } catch (e) {
      // A worker that cannot start or that died is replaced on the next update; after three failures
      // fine-tuning stays off for this page (the rankings never depended on it).
      const a = await this.adapter?.catch(() => null);
      if (!a?.alive) {
        this.adapter = null;
        if (++this.failures >= 3) this.off = true;
      }
      throw e;
    }
    if (gen !== this.gen || this.d.current()?.rt !== rt || this.disposed) return null; // forgotten or replaced meanwhile
    if (r.version !== rt.version)
      throw new ShelfwiseError('finetune_failed', `the worker has model version ${r.version}, the page ${rt.version}`);
    const info: FinetuneInfo = {
      status: r.reason,
      version: r.version,
      before: r.before,
      after: r.after,
      events: r.events,
      active: false,
      at: Date.now(),
      timings: r.timings,
      memory: r.memory,
    };
    if (r.reason === 'too-short') return this.emit({ ...info, active: !!rt.bias });
    if (r.reason === 'not-finite') {
      this.d.report(
        new ShelfwiseError('finetune_discarded', 'a fine-tuning update produced non-finite values and was discarded'),
      );
      return this.emit({ ...info, active: !!rt.bias });
    }
    try {
      rt.setBias(r.reason === 'kept' ? r.bias : null);
    } catch (e) {
      this.d.report(
        new ShelfwiseError('finetune_discarded', `a fine-tuning update was discarded: ${(e as Error).message}`),
      );
      return this.emit({ ...info, status: 'not-finite', active: !!rt.bias });
    }
    const saved: StoredAdaptation = {
      version: r.version,
      bias: r.bias ? Array.from(r.bias) : null,
      before: r.before,
      after: r.after,
      events: r.events,
      at: info.at,
    };
    await this.d.kv().setKV(ADAPT_KEY, saved).catch(this.d.report);
    return this.emit({ ...info, active: !!r.bias });
  }

  dispose(): void {
    this.disposed = true;
    this.adapter?.then(
      (a) => a.dispose(),
      () => undefined,
    );
    this.adapter = null;
  }
}
