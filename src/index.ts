/**
 * shelfwise as an ES module:
 *   const rec = await createRecommender({ model: '/models/online-retail/model.json' });
 *   await rec.track({ type: 'click', itemId: '85123A' });
 *   const ranked = await rec.rank(['85123A', '71053', ...]);
 */
import { createRecommenderWith } from './core.js';
import type { Recommender, RecommenderOptions } from './recommender/types.js';

export function createRecommender(options: RecommenderOptions): Promise<Recommender> {
  return createRecommenderWith(() => import('./model/runtime.js'), options);
}

export type {
  Recommender,
  RecommenderOptions,
  RankInfo,
  FinetuneConfig,
  FinetuneInfo,
  ModelInfo,
  BackendName,
  Arm,
  ExperimentInfo,
  ExperimentOptions,
} from './recommender/types.js';
export type { Candidate, RankOptions, RankRules, Ranked } from './rank/index.js';
export type { GridBinding, GridOptions } from './dom/index.js';
export type { ShelfwiseEvent, EventType, TrackInput } from './events/index.js';
export { ShelfwiseError, isShelfwiseError, type ShelfwiseErrorCode } from './shared/index.js';
export { validateEvent, normalizeInput, EVENT_TYPES } from './events/index.js';
export { rankCandidates } from './rank/index.js';
