export { HistoryCache, type RemoteChange } from './history-cache.js';
export { ModelLoader, type RuntimeModule } from './load.js';
export { AdaptationController } from './adaptation.js';
export { merchantOrder, modelHistory, rankWithModel, toCandidates } from './pipeline.js';
export { checkOptions, reporter, type Checked } from './options.js';
export { armOf, draw, exposer, randomId, urlArm } from './experiment.js';
export { recommender, type Parts } from './api.js';
export type * from './types.js';
