/** The public recommender object over the wired parts (core.ts wires them). */
import { normalizeInput, ShelfwiseError, type TrackInput } from '../events/index.js';
import type { Candidate, RankOptions } from '../rank/index.js';
import { bindGrid as bindGridImpl, type GridBinding } from '../dom/index.js';
import type { HistoryCache } from './history-cache.js';
import type { ModelLoader } from './load.js';
import type { AdaptationController } from './adaptation.js';
import { merchantOrder, rankWithModel, toCandidates } from './pipeline.js';
import type { Checked } from './options.js';
import type { ExperimentInfo } from './experiment.js';
import type { Recommender, RecommenderOptions } from './types.js';

export interface Parts {
  options: RecommenderOptions;
  checked: Checked;
  report: (e: unknown) => Error;
  grids: Set<GridBinding>;
  history: HistoryCache;
  loader: ModelLoader;
  adapt: AdaptationController | null;
  state: { trackedHere: boolean };
  experiment: ExperimentInfo | null;
  expose: () => void;
}

/** The public object over the wired parts. */
export function recommender({
  options,
  checked,
  report,
  grids,
  history,
  loader,
  adapt,
  state,
  experiment,
  expose,
}: Parts): Recommender {
  let rankOpts: RankOptions = { blend: options.blend, unknownPrior: options.unknownPrior, rules: options.rules };
  let disposed = false;
  const boundTo = new WeakMap<Element, GridBinding>();
  const alive = (what: string) => {
    if (disposed) throw new ShelfwiseError('disposed', `${what}() after dispose(): create a new recommender`);
  };
  const rec: Recommender & {
    /** @internal the demo's and the tests' window on the engine */ readonly runtime: unknown;
  } = {
    get backend() {
      return loader.runtime?.backend ?? null;
    },
    get storage() {
      return history.kind;
    },
    get model() {
      const rt = loader.runtime;
      return rt
        ? {
            version: rt.version,
            backend: rt.backend,
            backendReason: rt.backendReason,
            items: rt.vocab.ids.filter(Boolean),
          }
        : null;
    },
    get runtime() {
      return loader.runtime;
    },
    get ready() {
      return loader.ready;
    },
    get adaptation() {
      return adapt?.state ?? null;
    },
    get experiment() {
      return experiment;
    },
    async track(input: TrackInput) {
      let events;
      try {
        alive('track');
        events = normalizeInput(input);
      } catch (e) {
        throw report(e);
      }
      state.trackedHere = true;
      // What the shopper sees comes first: the grids reorder from the in-memory history, and the write
      // starts once they have (at most 50 ms later, so a stuck ranking never holds an event back).
      await history.add(events, () =>
        grids.size
          ? Promise.race([
              Promise.all([...grids].map((g) => g.refresh(events[events.length - 1]?.itemId, true))),
              new Promise((r) => setTimeout(r, 50)),
            ])
          : null,
      );
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
        try {
          options.onRank?.({ ms: performance.now() - t0, ...info });
        } catch {
          /* the shop's handler must not break us */
        }
        return ranked;
      } catch (e) {
        report(e);
        return merchantOrder(cands, o);
      }
    },
    bindGrid(container, gopts) {
      alive('bindGrid');
      // A grid bound twice is bound once: a second binding would record each click twice.
      const had = boundTo.get(container);
      if (had && grids.has(had)) return had;
      if ((gopts?.hold ?? 0) > 0) loader.hurry();
      const g = bindGridImpl(
        container,
        {
          track: (e) => rec.track(e),
          rank: (c, o) => rec.rank(c, o),
          prefetch: (id) => loader.runtime?.prefetchCompanions(id),
        },
        gopts,
        report,
      );
      grids.add(g);
      boundTo.set(container, g);
      const unbind = g.unbind.bind(g);
      g.unbind = () => {
        grids.delete(g);
        boundTo.delete(container);
        unbind();
      };
      return g;
    },
    async forget() {
      alive('forget');
      adapt?.drop();
      await history.clear();
      try {
        await loader.runtime?.embed([], true);
      } catch {
        /* runtime state is rebuilt on the next ranking */
      }
      for (const g of grids) void g.refresh();
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const g of [...grids]) g.unbind();
      loader.dispose();
      adapt?.dispose();
      history.close();
    },
    async history() {
      try {
        return [...(await history.read())];
      } catch (e) {
        report(e);
        return [];
      }
    },
    setOptions(o) {
      rankOpts = { ...rankOpts, ...o, rules: o.rules ?? rankOpts.rules };
      for (const g of grids) void g.refresh();
    },
    setBackend(b) {
      return loader.load(b);
    },
    finetune() {
      return adapt ? adapt.now() : Promise.resolve(null);
    },
  };
  return rec;
}
