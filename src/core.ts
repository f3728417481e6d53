/**
 * The recommender: events → history cache → lazily loaded model runtime → ranked list. Wiring only: the
 * history cache, the model loader, the adaptation controller and the rank pipeline live in
 * src/recommender/. Shared by the ES module entry (index.ts) and the script tag (browser.ts), which differ
 * only in how they load the runtime chunk.
 */
import { normalizeInput, type TrackInput } from './events/index.js';
import type { Candidate } from './rank/index.js';
import { bindGrid as bindGridImpl, type GridBinding } from './dom/index.js';
import {
  AdaptationController, armOf, checkOptions, exposer, HistoryCache, merchantOrder, ModelLoader, randomId, rankWithModel, reporter, toCandidates, urlArm,
  type Arm, type Checked, type ExperimentInfo, type ExperimentOptions, type Recommender, type RecommenderOptions, type RuntimeModule,
} from './recommender/index.js';
import type { RankOptions } from './rank/index.js';

export type { RuntimeModule };

export async function createRecommenderWith(importRuntime: () => Promise<RuntimeModule>, options: RecommenderOptions): Promise<Recommender> {
  const report = reporter(options?.onError);
  let checked: Checked;
  try { checked = checkOptions(options); } catch (e) { throw report(e); }
  const grids = new Set<GridBinding>();
  let adapt: AdaptationController | null = null;
  const consent = options.consent !== false;
  const history = await HistoryCache.open(checked.maxEvents, consent, report, (c) => { if (c === 'forget') adapt?.drop(); });
  const experiment = checked.experiment ? await draw(checked.experiment, options.arm, history, report) : null;
  const control = experiment?.arm === 'control';
  const checks = { useCache: options.cacheModel !== false, allowOrigins: options.allowOrigins, integrity: options.integrity };
  const loader = new ModelLoader({
    importRuntime, modelUrl: options.model, wasmPaths: options.wasmPaths, checks, report, disabled: control,
    loaded: async (rt) => { await adapt?.restore(rt); for (const g of grids) g.refresh(); },
  }, options.backend ?? 'auto');
  const state = { trackedHere: false };
  if (checked.finetune && !control) {
    adapt = new AdaptationController({
      config: checked.finetune, modelUrl: options.model, wasmBase: (m) => loader.wasmBase(m), checks,
      current: () => loader.current, ready: () => loader.ready, history: () => history.read(), kv: () => history.kv, report, onInfo: options.onFinetune,
    });
    void adapt.catchUp(() => state.trackedHere);
  }
  const expose = experiment ? exposer(experiment, consent) : () => {};
  return recommender({ options, checked, report, grids, history, loader, adapt, state, experiment, expose });
}

/**
 * This shopper's arm: forced (option or URL), or drawn from their random id, kept beside the events (with
 * consent; otherwise for this page only) so every page, tab and visit draws the same.
 */
async function draw(e: ExperimentOptions, forced: Arm | undefined, history: HistoryCache, report: (e: unknown) => void): Promise<ExperimentInfo> {
  const arm = forced ?? urlArm();
  if (arm) return { name: e.name, arm };
  let id: string | undefined;
  try {
    id = await history.kv.getKV<string>(EXPERIMENT_ID);
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) { id = randomId(); await history.kv.setKV(EXPERIMENT_ID, id); }
  } catch (err) { report(err); id ??= randomId(); }
  return { name: e.name, arm: armOf(id, e) };
}
const EXPERIMENT_ID = 'experiment-id';

interface Parts {
  options: RecommenderOptions; checked: Checked; report: (e: unknown) => Error; grids: Set<GridBinding>;
  history: HistoryCache; loader: ModelLoader; adapt: AdaptationController | null; state: { trackedHere: boolean };
  experiment: ExperimentInfo | null; expose: () => void;
}

/** The public object over the wired parts. */
function recommender({ options, checked, report, grids, history, loader, adapt, state, experiment, expose }: Parts): Recommender {
  let rankOpts: RankOptions = { blend: options.blend, unknownPrior: options.unknownPrior, rules: options.rules };
  const rec: Recommender & { /** @internal the demo's and the tests' window on the engine */ readonly runtime: unknown } = {
    get backend() { return loader.runtime?.backend ?? null; },
    get storage() { return history.kind; },
    get model() { const rt = loader.runtime; return rt ? { version: rt.version, backend: rt.backend, backendReason: rt.backendReason, items: rt.vocab.ids } : null; },
    get runtime() { return loader.runtime; },
    get ready() { return loader.ready; },
    get adaptation() { return adapt?.state ?? null; },
    get experiment() { return experiment; },
    async track(input: TrackInput) {
      let events;
      try { events = normalizeInput(input); } catch (e) { throw report(e); }
      state.trackedHere = true;
      // What the shopper sees comes first: the grids reorder from the in-memory history, and the write
      // starts once they have (at most 50 ms later, so a stuck ranking never holds an event back).
      await history.add(events, () => grids.size
        ? Promise.race([Promise.all([...grids].map((g) => g.refresh(events[events.length - 1]?.itemId))), new Promise((r) => setTimeout(r, 50))])
        : null);
      adapt?.tracked(events.length);
    },
    async rank(candidates: Array<string | Candidate>, opts?: RankOptions) {
      const t0 = performance.now();
      const o = { ...rankOpts, ...opts, rules: { ...rankOpts.rules, ...opts?.rules } };
      const cands = toCandidates(candidates);
      expose(); // this page shows a ranking: the arm is announced (once)
      try {
        const rt = await loader.forRanking(checked.modelWait);
        if (!rt) return merchantOrder(cands, o);
        const { ranked, info } = await rankWithModel(rt, await history.read(), cands, o);
        try { options.onRank?.({ ms: performance.now() - t0, ...info }); } catch { /* the shop's handler must not break us */ }
        return ranked;
      } catch (e) {
        report(e);
        return merchantOrder(cands, o);
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
      adapt?.drop();
      await history.clear();
      try { await loader.runtime?.embed([], true); } catch { /* runtime state is rebuilt on the next ranking */ }
      for (const g of grids) g.refresh();
    },
    dispose() {
      for (const g of [...grids]) g.unbind();
      loader.dispose();
      adapt?.dispose();
      history.close();
    },
    async history() {
      try { return [...(await history.read())]; } catch (e) { report(e); return []; }
    },
    setOptions(o) {
      rankOpts = { ...rankOpts, ...o, rules: o.rules ?? rankOpts.rules };
      for (const g of grids) g.refresh();
    },
    setBackend(b) { return loader.load(b); },
    finetune() { return adapt ? adapt.now() : Promise.resolve(null); },
  };
  return rec;
}
