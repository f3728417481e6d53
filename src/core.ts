/**
 * The recommender: events → store → lazily loaded model runtime → ranked list. Shared by the ES module
 * entry (index.ts) and the script tag (browser.ts), which differ only in how they load the runtime chunk.
 */
import { normalizeInput, openStore, ShelfwiseError, type EventStore, type ShelfwiseEvent } from './events/index.js';
import { rankCandidates, type Candidate, type RankOptions, type Ranked } from './rank/index.js';
import { bindGrid as bindGridImpl, type GridBinding, type GridOptions } from './dom/index.js';
import type { BackendName, Embedding, ModelRuntime } from './model/runtime.js';

export type RuntimeModule = typeof import('./model/runtime.js');

export interface RecommenderOptions extends RankOptions {
  /** URL of the model's model.json. */
  model: string;
  /** 'auto' (default): webgpu → webgl → wasm → cpu. An explicit backend is honored or fails with an error. */
  backend?: BackendName | 'auto';
  /** Called with every error (also logged once to the console); nothing is ever thrown into the page. */
  onError?: (error: ShelfwiseError) => void;
  /** false: store nothing (events live in memory for this page only). Default true. */
  consent?: boolean;
  /** Most recent events kept (default 1000). */
  maxEvents?: number;
  /** Cache model files with the Cache API (default true). */
  cacheModel?: boolean;
  /** Where the wasm binaries are served (default: beside the runtime chunk). */
  wasmPaths?: string;
  /** Called after each re-ranking with the latency of the last interaction (ms). */
  onRank?: (info: { ms: number; backend: BackendName | null; incremental: boolean }) => void;
}

export interface Recommender {
  /** Records an event (shelfwise, GA4 or Segment shape). Rejects with a ShelfwiseError on invalid input. */
  track(event: unknown): Promise<void>;
  /** Ranks candidates (ids or objects, in the merchant's order). Never rejects: falls back to merchant order. */
  rank(candidates: Array<string | Candidate>, options?: RankOptions): Promise<Ranked[]>;
  bindGrid(container: Element, options?: GridOptions): GridBinding;
  /** Erases everything stored (events, adaptations) and the in-memory state. */
  forget(): Promise<void>;
  dispose(): void;
  /** The stored history, oldest first. */
  history(): Promise<ShelfwiseEvent[]>;
  /** Resolves when the model is loaded (true) or failed (false). */
  readonly ready: Promise<boolean>;
  readonly backend: BackendName | null;
  readonly storage: 'indexeddb' | 'memory';
  /** Model runtime (after `ready`), for tools like the demo's panel. */
  readonly runtime: ModelRuntime | null;
  /** Updates blend / rules / prior for later rankings (and re-ranks bound grids). */
  setOptions(o: RankOptions): void;
  /** Switches backend (re-loads the model there). */
  setBackend(b: BackendName | 'auto'): Promise<boolean>;
}

export async function createRecommenderWith(loadRuntime: () => Promise<RuntimeModule>, options: RecommenderOptions): Promise<Recommender> {
  const reported = new Set<string>();
  const report = (e: unknown) => {
    const err = e instanceof ShelfwiseError ? e : new ShelfwiseError('internal', String((e as Error)?.message ?? e), { cause: e });
    try { options.onError?.(err); } catch { /* the shop's handler must not break us either */ }
    const key = `${err.code}:${err.message}`;
    if (!reported.has(key)) { reported.add(key); console.warn(`[shelfwise] ${err.message}`); }
    return err;
  };
  if (!options || typeof options.model !== 'string' || !options.model) throw report(new ShelfwiseError('invalid_options', 'createRecommender: options.model (URL of model.json) is required'));
  const cap = options.maxEvents ?? 1000;
  let store: EventStore = await openStore(cap, options.consent !== false, report);
  let rankOpts: RankOptions = { blend: options.blend, unknownPrior: options.unknownPrior, rules: options.rules };
  let runtime: ModelRuntime | null = null;
  let disposed = false;
  const grids = new Set<GridBinding>();
  // In-memory mirror of the stored history (oldest first). Another tab's writes invalidate it through a
  // BroadcastChannel, so each tab ranks with the other's events on its next interaction without reading
  // up to `cap` events from IndexedDB on every one.
  let mirror: ShelfwiseEvent[] | null = null;
  const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('shelfwise') : null;
  if (channel) channel.onmessage = () => { mirror = null; };
  const readHistory = async (): Promise<ShelfwiseEvent[]> => {
    // Without a BroadcastChannel another tab's writes could go unseen, so IndexedDB is read every time.
    if (mirror && (store.kind === 'memory' || channel)) return mirror;
    mirror = await store.recent(cap);
    return mirror;
  };

  const load = async (backend: BackendName | 'auto'): Promise<boolean> => {
    try {
      const mod = await loadRuntime();
      const rt = await mod.ModelRuntime.load(options.model, backend, options.wasmPaths ?? new URL('.', mod.RUNTIME_URL).href, options.cacheModel !== false);
      if (disposed) { rt.dispose(); return false; }
      runtime?.dispose();
      runtime = rt;
      for (const g of grids) g.refresh();
      return true;
    } catch (e) {
      report(e instanceof ShelfwiseError ? e : new ShelfwiseError('model_failed', `model could not be loaded: ${(e as Error)?.message ?? e}`, { cause: e }));
      return false;
    }
  };
  let ready = load(options.backend ?? 'auto');

  /** Storage failure mid-session: switch to memory, keeping what this page already knows. */
  const safeAdd = async (e: ShelfwiseEvent) => {
    try { await store.add(e); } catch (err) {
      report(err);
      if (store.kind === 'indexeddb') {
        let keep: ShelfwiseEvent[] = [];
        try { keep = await store.recent(cap); } catch { /* unreadable */ }
        const mem = (await openStore(cap, false, report));
        for (const k of keep) await mem.add(k);
        await mem.add(e);
        store = mem;
      }
    }
  };

  const embedHistory = async (): Promise<{ emb: Embedding; history: ShelfwiseEvent[] } | null> => {
    const rt = runtime;
    if (!rt) return null;
    const history = await readHistory();
    // Only the events the model can read; search events carry no item.
    const modelEvents = history.filter((e) => e.itemId !== undefined && e.type !== 'search') as Array<{ itemId: string; type: ShelfwiseEvent['type']; ts: number }>;
    return { emb: await rt.embed(modelEvents), history };
  };

  const rec: Recommender = {
    get backend() { return runtime?.backend ?? null; },
    get storage() { return store.kind; },
    get runtime() { return runtime; },
    get ready() { return ready; },
    async track(input) {
      let events: ShelfwiseEvent[];
      try { events = normalizeInput(input); } catch (e) { throw report(e); }
      // The ranking reads the in-memory mirror, so the grid re-ranks while the write is in flight;
      // track() resolves once the events are stored.
      if (mirror) { mirror.push(...events); if (mirror.length > cap) mirror.splice(0, mirror.length - cap); }
      for (const g of grids) g.refresh(events[events.length - 1]?.itemId);
      for (const e of events) await safeAdd(e);
      channel?.postMessage('events');
    },
    async rank(candidates, opts) {
      const t0 = performance.now();
      const o = { ...rankOpts, ...opts, rules: { ...rankOpts.rules, ...opts?.rules } };
      let cands: Candidate[];
      try {
        cands = (Array.isArray(candidates) ? candidates : []).map((c) => (typeof c === 'string' ? { id: c } : c)).filter((c) => c && typeof c.id === 'string');
      } catch { cands = []; }
      try {
        const res = await embedHistory();
        const rt = runtime;
        if (!res || !rt) return rankCandidates(cands, cands.map(() => null), cands.map(() => null), { ...o, blend: 0 });
        const rows = cands.map((c) => rt.rowOf.get(c.id) ?? 0);
        const hasHistory = res.emb.rows.length > 0;
        const s = rt.score(res.emb.user, rows);
        const scores = rows.map((r, i) => (r > 0 && hasHistory ? s[i] : null));
        const purchased = new Set(res.history.filter((e) => e.type === 'purchase' && e.itemId).map((e) => e.itemId!));
        const ranked = rankCandidates(cands, scores, cands.map(() => null), hasHistory ? o : { ...o, blend: 0 }, purchased);
        // Reasons for the first rows only: each costs history × d multiply-adds.
        for (const r of ranked.slice(0, 48)) {
          const row = rt.rowOf.get(r.itemId);
          if (row && hasHistory) { const h = rt.reason(res.emb, row); r.reason = h > 0 ? rt.vocab.ids[h - 1] : null; }
        }
        options.onRank?.({ ms: performance.now() - t0, backend: rt.backend, incremental: res.emb.incremental });
        return ranked;
      } catch (e) {
        report(e);
        return rankCandidates(cands, cands.map(() => null), cands.map(() => null), { ...o, blend: 0 });
      }
    },
    bindGrid(container, gopts) {
      const g = bindGridImpl(container, rec, gopts, report);
      grids.add(g);
      const unbind = g.unbind;
      g.unbind = () => { grids.delete(g); unbind(); };
      return g;
    },
    async forget() {
      try { await store.clear(); } catch (e) { report(e); }
      mirror = null;
      channel?.postMessage('forget');
      try { await runtime?.embed([], true); } catch { /* runtime state is rebuilt on the next ranking */ }
      for (const g of grids) g.refresh();
    },
    dispose() {
      disposed = true;
      for (const g of [...grids]) g.unbind();
      runtime?.dispose();
      runtime = null;
      channel?.close();
      store.close();
    },
    async history() {
      try { return [...(await readHistory())]; } catch (e) { report(e); return []; }
    },
    setOptions(o) {
      rankOpts = { ...rankOpts, ...o, rules: o.rules ?? rankOpts.rules };
      for (const g of grids) g.refresh();
    },
    setBackend(b) {
      ready = load(b);
      return ready;
    },
  };
  return rec;
}
