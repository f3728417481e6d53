/** Event types: what the events, model and rank folders all speak of. */

/** Event types, in the order of their embedding rows (row 0 is padding). Part of the model format. */
export const EVENT_TYPES = ['view', 'click', 'add_to_cart', 'remove_from_cart', 'purchase', 'search'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The tfjs backends a model can run on. */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
