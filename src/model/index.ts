export * from './config.js';
export * from './features.js';
export * from './encoder.js';
export * from './inputs.js';
export * from './weights.js';
export * from './finetune.js';
