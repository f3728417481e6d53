export * from './types.js';
export { validateEvent, normalizeInput, isCommerceEvent } from './validate.js';
export { openStore, eraseStored, Journal, type EventStore } from './store.js';
