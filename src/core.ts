/**
 * The recommender: events → store → lazily loaded model runtime → ranked list. Shared by the ES module
 * entry (index.ts) and the script tag (browser.ts), which differ only in how they load the runtime chunk.
 */
import { asShelfwiseError, normalizeInput, openStore, ShelfwiseError, type EventStore, type ShelfwiseEvent } from './events/index.js';
import { rankCandidates, returnReason, type Candidate, type RankOptions, type Ranked } from './rank/index.js';
import { bindGrid as bindGridImpl, type GridBinding, type GridOptions } from './dom/index.js';
import type { Adapter, BackendName, Embedding, ModelRuntime, UpdateResult } from './model/runtime.js';
import type { FinetuneOptions } from './model/index.js';

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
  onRank?: (info: RankInfo) => void;
  /**
   * On-device fine-tuning (off by default): true or options. A Web Worker adapts a per-shopper bias on
   * the user vector to this shopper's own history, keeps it only when it ranks their most recent event at
   * least as well, and stores it in IndexedDB with the model's version. With it off no worker starts.
   */
  finetune?: boolean | FinetuneConfig;
  /** Called after every fine-tuning update (kept, rejected by the guard, or discarded). */
  onFinetune?: (info: FinetuneInfo) => void;
}

/** What `onRank` (and the script tag's `shelfwise:rank` event) reports about a ranking. */
export interface RankInfo {
  ms: number;
  backend: BackendName | null;
  incremental: boolean;
  /**
   * The model's return/discover balance for this shopper now: the share of probability it gives to items
   * they already touched (0…1), or null for a model without the return part.
   */
  returnShare: number | null;
}

export interface FinetuneConfig extends FinetuneOptions {
  /** An update runs after this many new events (default 5), when the page is idle. */
  everyEvents?: number;
  /** The worker's backend (default 'wasm': the update is small and must not compete with the page's GPU). */
  backend?: BackendName | 'auto';
}

/** The state of the shopper's adaptation after an update, or restored from storage. */
export interface FinetuneInfo {
  /** kept: applied; worse: the guard rejected it (the pretrained model is used); not-finite: discarded;
   * too-short: under 3 known events; restored: loaded from storage for this model version. */
  status: 'kept' | 'worse' | 'not-finite' | 'too-short' | 'restored';
  version: string;
  /** Rank of the held-back most recent event without and with the adaptation (0 = first). */
  before: number;
  after: number;
  /** Events in the window fitted on. */
  events: number;
  /** Whether an adaptation is applied to the rankings now. */
  active: boolean;
  at: number;
  timings?: UpdateResult['timings'];
  memory?: UpdateResult['memory'];
}

/** What is stored in the kv store under ADAPT_KEY. */
interface StoredAdaptation { version: string; bias: number[] | null; before: number; after: number; events: number; at: number }
const ADAPT_KEY = 'adaptation';

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
  /** The shopper's current adaptation (null: none, or fine-tuning is off). */
  readonly adaptation: FinetuneInfo | null;
  /** Runs a fine-tuning update now (when `finetune` is on); resolves with its outcome, or null. */
  finetune(): Promise<FinetuneInfo | null>;
}

export async function createRecommenderWith(loadRuntime: () => Promise<RuntimeModule>, options: RecommenderOptions): Promise<Recommender> {
  const reported = new Set<string>();
  const report = (e: unknown) => {
    const err = asShelfwiseError(e, 'internal');
    try { options.onError?.(err); } catch { /* the shop's handler must not break us either */ }
    const key = `${err.code}:${err.message}`;
    if (!reported.has(key)) { reported.add(key); console.warn(`[shelfwise] ${err.message}`); }
    return err;
  };
  if (!options || typeof options.model !== 'string' || !options.model) throw report(new ShelfwiseError('invalid_options', 'createRecommender: options.model (URL of model.json) is required'));
  const ft: FinetuneConfig | null = options.finetune ? (options.finetune === true ? {} : options.finetune) : null;
  for (const k of ['everyEvents', 'steps', 'lr', 'l2'] as const) {
    const v = ft?.[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= (k === 'l2' ? 0 : k === 'lr' ? Number.MIN_VALUE : 1))) {
      throw report(new ShelfwiseError('invalid_options', `createRecommender: finetune.${k} must be a ${k === 'l2' ? 'non-negative' : 'positive'} finite number, got ${String(v)}`));
    }
  }
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
  // Bumped by every change a read already in flight cannot have seen (an event tracked here, another
  // tab's write, forget()): such a read is not kept as the mirror but done again.
  let mirrorGen = 0;
  // This tab's writes, in track() order: a read from storage waits for them, so it has every event
  // tracked before it.
  let writes: Promise<void> = Promise.resolve();
  const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('shelfwise') : null;
  // Another tab's forget() also drops this tab's adaptation: it was fitted on the erased history.
  if (channel) channel.onmessage = (m) => { mirror = null; mirrorGen++; if (m.data === 'forget') dropAdaptation(); };
  const readHistory = async (): Promise<ShelfwiseEvent[]> => {
    for (let attempt = 0; ; attempt++) {
      // Without a BroadcastChannel another tab's writes could go unseen, so IndexedDB is read every time.
      if (mirror && (store.kind === 'memory' || channel)) return mirror;
      const gen = mirrorGen;
      await writes;
      const h = await store.recent(cap);
      if (gen === mirrorGen) { mirror = h; return h; }
      if (attempt >= 3) return h; // events keep arriving: use this read, keep none
    }
  };

  const load = async (backend: BackendName | 'auto'): Promise<boolean> => {
    try {
      const mod = await loadRuntime();
      const rt = await mod.ModelRuntime.load(options.model, backend, options.wasmPaths ?? new URL('.', mod.RUNTIME_URL).href, options.cacheModel !== false);
      if (disposed) { rt.dispose(); return false; }
      runtime?.dispose();
      runtime = rt;
      runtimeMod = mod;
      await restoreAdaptation(rt);
      for (const g of grids) g.refresh();
      return true;
    } catch (e) {
      report(asShelfwiseError(e, 'model_failed', 'model could not be loaded: '));
      return false;
    }
  };

  // On-device fine-tuning: a worker started on the first update, never when `finetune` is off.
  let runtimeMod: RuntimeModule | null = null;
  let adapter: Promise<Adapter> | null = null;
  let adaptation: FinetuneInfo | null = null;
  let newEvents = 0, ftGen = 0, ftScheduled = false, ftFailures = 0, ftOff = false;
  let ftRun: Promise<FinetuneInfo | null> = Promise.resolve(null);
  const dropAdaptation = () => { ftGen++; newEvents = 0; adaptation = null; runtime?.setBias(null); };
  const finetuned = (info: FinetuneInfo) => {
    adaptation = info;
    try { options.onFinetune?.(info); } catch { /* the shop's handler must not break us */ }
    return info;
  };
  const restoreAdaptation = async (rt: ModelRuntime) => {
    if (!ft) return;
    let saved: StoredAdaptation | undefined;
    try { saved = await store.getKV<StoredAdaptation>(ADAPT_KEY); } catch (e) { report(e); return; }
    if (!saved) return;
    if (saved.version !== rt.version) { await store.deleteKV(ADAPT_KEY).catch(report); return; } // another model's
    try { rt.setBias(saved.bias); } catch (e) {
      report(new ShelfwiseError('finetune_invalid', `the stored adaptation was invalid and is discarded: ${(e as Error).message}`));
      await store.deleteKV(ADAPT_KEY).catch(report);
      return;
    }
    finetuned({ status: 'restored', version: saved.version, before: saved.before, after: saved.after, events: saved.events, active: !!saved.bias, at: saved.at });
  };
  const update = async (): Promise<FinetuneInfo | null> => {
    const gen = ftGen;
    await ready;
    const rt = runtime, mod = runtimeMod;
    if (!ft || ftOff || !rt || !mod || disposed) return null;
    newEvents = 0;
    const history = modelHistory(await readHistory());
    if (!adapter) {
      adapter = mod.Adapter.start(options.model, ft.backend ?? 'wasm', options.wasmPaths ?? new URL('.', mod.RUNTIME_URL).href, options.cacheModel !== false);
    }
    let r: UpdateResult;
    try {
      const a = await adapter;
      r = await a.update(history, { steps: ft.steps, lr: ft.lr, l2: ft.l2 });
    } catch (e) {
      // A worker that cannot start or that died is replaced on the next update; after three failures
      // fine-tuning stays off for this page (the rankings never depended on it).
      const a = await adapter?.catch(() => null);
      if (!a?.alive) { adapter = null; if (++ftFailures >= 3) ftOff = true; }
      throw e;
    }
    if (gen !== ftGen || runtime !== rt || disposed) return null; // forgotten or replaced meanwhile
    if (r.version !== rt.version) throw new ShelfwiseError('finetune_failed', `the worker has model version ${r.version}, the page ${rt.version}`);
    const info: FinetuneInfo = { status: r.reason, version: r.version, before: r.before, after: r.after, events: r.events, active: false, at: Date.now(), timings: r.timings, memory: r.memory };
    if (r.reason === 'too-short') return finetuned({ ...info, active: !!rt.bias });
    if (r.reason === 'not-finite') {
      report(new ShelfwiseError('finetune_discarded', 'a fine-tuning update produced non-finite values and was discarded'));
      return finetuned({ ...info, active: !!rt.bias });
    }
    try { rt.setBias(r.reason === 'kept' ? r.bias : null); } catch (e) {
      report(new ShelfwiseError('finetune_discarded', `a fine-tuning update was discarded: ${(e as Error).message}`));
      return finetuned({ ...info, status: 'not-finite', active: !!rt.bias });
    }
    const saved: StoredAdaptation = { version: r.version, bias: r.bias ? Array.from(r.bias) : null, before: r.before, after: r.after, events: r.events, at: info.at };
    await store.setKV(ADAPT_KEY, saved).catch(report);
    return finetuned({ ...info, active: !!r.bias });
  };
  const runFinetune = (): Promise<FinetuneInfo | null> => {
    ftRun = ftRun.then(update).catch((e) => { report(asShelfwiseError(e, 'finetune_failed')); return null; });
    return ftRun;
  };
  const scheduleFinetune = () => {
    if (ftScheduled || disposed) return;
    ftScheduled = true;
    const go = () => { ftScheduled = false; void runFinetune(); };
    const ric = (globalThis as { requestIdleCallback?: (f: () => void, o: { timeout: number }) => void }).requestIdleCallback;
    if (ric) ric(go, { timeout: 5000 }); else setTimeout(go, 300);
  };

  let ready = load(options.backend ?? 'auto');
  // Events stored before this page started that the stored adaptation has not seen (another visit, another
  // tab): update once the page is idle. This page's own events count toward `everyEvents` instead, and that
  // update reads the whole history. The read waits for this page's writes, and their timestamps may be the
  // shop's own (older than the page), so once this page has tracked anything the check stands down.
  let trackedHere = false;
  if (ft) ready.then(async (ok) => {
    if (!ok || trackedHere) return;
    const all = await readHistory().catch(() => []);
    if (trackedHere) return;
    const h = modelHistory(all);
    const last = h[h.length - 1];
    if (h.length >= 3 && (!adaptation || adaptation.at < last.ts)) scheduleFinetune();
  });

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
    return { emb: await rt.embed(modelHistory(history)), history };
  };

  const rec: Recommender = {
    get backend() { return runtime?.backend ?? null; },
    get storage() { return store.kind; },
    get runtime() { return runtime; },
    get ready() { return ready; },
    async track(input) {
      let events: ShelfwiseEvent[];
      try { events = normalizeInput(input); } catch (e) { throw report(e); }
      trackedHere = true;
      // The ranking reads the in-memory mirror, so the grid re-ranks before the write;
      // track() resolves once the events are stored.
      if (mirror) { mirror.push(...events); if (mirror.length > cap) mirror.splice(0, mirror.length - cap); }
      mirrorGen++;
      // What the shopper sees comes first: the write starts once the grids have reordered (at most 50 ms
      // later, so a stuck ranking never holds an event back), after this tab's earlier writes.
      const shown = grids.size
        ? Promise.race([Promise.all([...grids].map((g) => g.refresh(events[events.length - 1]?.itemId))), new Promise((r) => setTimeout(r, 50))])
        : null;
      const prev = writes;
      const written = (async () => { await prev; await shown; for (const e of events) await safeAdd(e); })();
      writes = written.catch(() => undefined);
      await written;
      channel?.postMessage('events');
      if (ft && (newEvents += events.length) >= (ft.everyEvents ?? 5)) scheduleFinetune();
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
        const known = modelHistory(res.history);
        const s = rt.scoreFor(res.emb, known, rows);
        const scores = rows.map((r, i) => (r > 0 && hasHistory ? s.scores[i] : null));
        const sourceOf = new Map(cands.map((c, i) => [c.id, s.source[i]]));
        const purchased = new Set(res.history.filter((e) => e.type === 'purchase' && e.itemId).map((e) => e.itemId!));
        const ranked = rankCandidates(cands, scores, cands.map(() => null), hasHistory ? o : { ...o, blend: 0 }, purchased);
        // Reasons for the first rows only: each costs history × d multiply-adds.
        const now = Date.now();
        for (const r of ranked.slice(0, 48)) {
          const row = rt.rowOf.get(r.itemId);
          if (!row || !hasHistory) continue;
          r.source = sourceOf.get(r.itemId) ?? 'discover';
          if (r.source === 'return') r.reason = returnReason(known, r.itemId, now);
          else { const h = rt.reason(res.emb, row); r.reason = h > 0 ? rt.vocab.ids[h - 1] : null; }
        }
        for (const r of ranked.slice(48)) if (r.score !== null) r.source = sourceOf.get(r.itemId) ?? 'discover';
        options.onRank?.({ ms: performance.now() - t0, backend: rt.backend, incremental: res.emb.incremental, returnShare: hasHistory ? s.gate : null });
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
      dropAdaptation();
      await writes; // an event tracked just before forget() is erased too
      try { await store.clear(); } catch (e) { report(e); }
      // A read that began before the clear must not become the mirror.
      mirror = null;
      mirrorGen++;
      channel?.postMessage('forget');
      try { await runtime?.embed([], true); } catch { /* runtime state is rebuilt on the next ranking */ }
      for (const g of grids) g.refresh();
    },
    dispose() {
      disposed = true;
      for (const g of [...grids]) g.unbind();
      runtime?.dispose();
      runtime = null;
      adapter?.then((a) => a.dispose(), () => undefined);
      adapter = null;
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
    get adaptation() { return adaptation; },
    finetune() { return ft ? runFinetune() : Promise.resolve(null); },
  };
  return rec;
}

/** Only the events the model can read; search events carry no item. */
function modelHistory(history: ShelfwiseEvent[]) {
  return history.filter((e) => e.itemId !== undefined && e.type !== 'search') as Array<{ itemId: string; type: ShelfwiseEvent['type']; ts: number }>;
}
