export * from './types.js';
export { validateEvent, normalizeInput, isCommerceEvent } from './validate.js';
export { openStore, type EventStore } from './store.js';
