/** Messages between the page (runtime.ts's Adapter) and the fine-tuning worker (adapt-worker.ts). */
import type { BackendName, FileChecks, ModelEvent, WasmPaths } from './engine.js';
import type { FinetuneOptions, FinetuneResult } from './finetune.js';
import type { ShelfwiseErrorCode } from '../shared/index.js';

export type ToWorker =
  | { type: 'init'; id: number; url: string; backend: BackendName | 'auto'; wasmBase: WasmPaths; checks: FileChecks }
  | { type: 'update'; id: number; history: ModelEvent[]; options: FinetuneOptions };

export interface UpdateResult extends FinetuneResult {
  /** Model version the adaptation belongs to. */
  version: string;
  /** Events in the window it was fitted on. */
  events: number;
  /** ms: encoder forward pass, fit (all steps, including the one-time base logits), guard, whole update. */
  timings: { embedMs: number; fitMs: number; stepMs: number; guardMs: number; totalMs: number };
  /** The worker's tfjs memory after the update. */
  memory: { numTensors: number; numBytes: number };
}

export type FromWorker =
  | { type: 'ready'; id: number; backend: BackendName; version: string }
  | { type: 'result'; id: number; result: UpdateResult }
  | { type: 'error'; id: number; code: ShelfwiseErrorCode; message: string };
