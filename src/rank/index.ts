export { rankCandidates, type Candidate, type RankOptions, type RankRules, type Ranked } from './rank.js';
export { returnReason, type ReasonEvent } from './reason.js';
