/**
 * The recommender: events → history cache → lazily loaded model runtime → ranked list. Wiring only: the
 * history cache, the model loader, the adaptation controller and the rank pipeline live in
 * src/recommender/. Shared by the ES module entry (index.ts) and the script tag (browser.ts), which differ
 * only in how they load the runtime chunk.
 */
import type { GridBinding } from './dom/index.js';
import {
  AdaptationController,
  checkOptions,
  draw,
  exposer,
  HistoryCache,
  ModelLoader,
  recommender,
  reporter,
  type Checked,
  type Recommender,
  type RecommenderOptions,
  type RuntimeModule,
} from './recommender/index.js';

export type { RuntimeModule };

export async function createRecommenderWith(
  importRuntime: () => Promise<RuntimeModule>,
  options: RecommenderOptions,
): Promise<Recommender> {
  const report = reporter(options?.onError);
  let checked: Checked;
  try {
    checked = checkOptions(options);
  } catch (e) {
    throw report(e);
  }
  const grids = new Set<GridBinding>();
  let adapt: AdaptationController | null = null;
  const consent = options.consent !== false;
  const history = await HistoryCache.open(checked.maxEvents, consent, report, (c) => {
    if (c === 'forget') adapt?.drop();
  });
  const experiment = checked.experiment ? await draw(checked.experiment, options.arm, history, report) : null;
  const control = experiment?.arm === 'control';
  const checks = {
    useCache: options.cacheModel !== false,
    allowOrigins: options.allowOrigins,
    integrity: options.integrity,
  };
  const loader = new ModelLoader(
    {
      importRuntime,
      modelUrl: options.model,
      wasmPaths: options.wasmPaths,
      checks,
      report,
      disabled: control,
      loaded: async (rt) => {
        await adapt?.restore(rt);
        for (const g of grids) void g.refresh();
      },
    },
    options.backend ?? 'auto',
  );
  const state = { trackedHere: false };
  if (checked.finetune && !control) {
    adapt = new AdaptationController({
      config: checked.finetune,
      modelUrl: options.model,
      wasmBase: (m) => loader.wasmBase(m),
      checks,
      current: () => loader.current,
      ready: () => loader.ready,
      history: () => history.read(),
      kv: () => history.kv,
      report,
      onInfo: options.onFinetune,
    });
    void adapt.catchUp(() => state.trackedHere);
  }
  const expose = experiment ? exposer(experiment, consent) : () => {};
  return recommender({ options, checked, report, grids, history, loader, adapt, state, experiment, expose });
}
