export * from './types.js';
export { validateEvent, normalizeInput, isCommerceEvent, checkItemId } from './validate.js';
export { openStore, MemoryStore, IdbStore, DB_NAME, type EventStore } from './store.js';
