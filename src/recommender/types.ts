/** The recommender's public option and info types. */
import type { BackendName, ShelfwiseError } from '../shared/index.js';
import type { ShelfwiseEvent, TrackInput } from '../events/index.js';
import type { Candidate, RankOptions, Ranked } from '../rank/index.js';
import type { GridBinding, GridOptions } from '../dom/index.js';
import type { Arm, ExperimentInfo, ExperimentOptions } from './experiment.js';

export type { Arm, ExperimentInfo, ExperimentOptions };

export type { BackendName };

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
  /**
   * An A/B holdout: `{ name, holdout }` (e.g. `{ name: 'grid-2026-12', holdout: 0.2 }`). Each shopper is drawn
   * once (a random id kept beside the events, salted with the name) into `control` (the merchant's order,
   * the model never downloaded) or `personalized`, and the arm is announced to the shop's analytics when a
   * grid or ranking is first shown on a page (GA4 `experience_impression`, Segment `Experiment Viewed`, and
   * a `shelfwise:exposure` window event).
   */
  experiment?: ExperimentOptions;
  /** Forces the arm (QA); so does `?shelfwise_arm=control|personalized` on the page's URL. */
  arm?: Arm;
  /** Origins besides model.json's own that the model's weight and vocabulary files may come from (default none). */
  allowOrigins?: string[];
  /**
   * SRI-style hashes of the model's files, by the name model.json gives them (and "model.json"), e.g.
   * `{ 'weights.bin': 'sha384-…' }` as the model card lists them: a file that does not match is refused.
   */
  integrity?: Record<string, string>;
  /** Where the wasm binaries are served (default: beside the runtime chunk). */
  wasmPaths?: string;
  /**
   * How long `rank()` waits for the model's first load, in ms (default 3000). Past it, or when the load
   * failed, it returns the merchant's order (with `model_not_ready` reported if the load is still going).
   */
  modelWait?: number;
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

export interface FinetuneConfig {
  /** Gradient steps per update (default 20). */
  steps?: number;
  /** Step size (default 0.5). */
  lr?: number;
  /** L2 weight toward the pretrained model (default 0.05). */
  l2?: number;
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
  /** ms: encoder forward pass, fit (all steps), per step, guard, whole update. */
  timings?: { embedMs: number; fitMs: number; stepMs: number; guardMs: number; totalMs: number };
  /** The worker's tfjs memory after the update. */
  memory?: { numTensors: number; numBytes: number };
}

/** The loaded model as tools like the demo's panel see it. */
export interface ModelInfo {
  version: string;
  backend: BackendName;
  /** Why that backend: e.g. "auto: webgpu adapter is software (...)" when auto skipped a software GPU. */
  backendReason: string;
  /**
   * Item ids the model knows, in the order of its vocabulary; for a sharded item directory, the products the
   * page has looked up so far (the catalog itself is never downloaded).
   */
  items: readonly string[];
}

export interface Recommender {
  /** Records an event (shelfwise, GA4 or Segment shape). Rejects with a ShelfwiseError on invalid input. */
  track(event: TrackInput): Promise<void>;
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
  /** The loaded model (after `ready`), or null. */
  readonly model: ModelInfo | null;
  /** Updates blend / rules / prior for later rankings (and re-ranks bound grids). */
  setOptions(o: RankOptions): void;
  /** Switches backend (re-loads the model there). */
  setBackend(b: BackendName | 'auto'): Promise<boolean>;
  /** The shopper's current adaptation (null: none, or fine-tuning is off). */
  readonly adaptation: FinetuneInfo | null;
  /** The experiment and this shopper's arm (null without an `experiment` option). */
  readonly experiment: ExperimentInfo | null;
  /** Runs a fine-tuning update now (when `finetune` is on); resolves with its outcome, or null. */
  finetune(): Promise<FinetuneInfo | null>;
}
