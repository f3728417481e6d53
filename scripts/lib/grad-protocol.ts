/** Messages between the trainer and its gradient workers (scripts/lib/grad-worker.ts). */
import type { LossOptions, SeqInputs, Targets } from '../../src/model/encoder.js';
import type { ModelConfig } from '../../src/model/config.js';

/** The loss options every share of a step uses (seeds differ per share). */
export type StepLoss = Pick<LossOptions, 'sampled' | 'negatives' | 'maskSeen' | 'labelSmoothing'>;

/** Sent once: the model's config (the worker allocates its copy of the parameters). */
export interface InitRequest {
  init: ModelConfig;
}
/** One share of a batch: the current parameters (flat, in `paramShapes` order), inputs and targets. */
export interface ShareRequest {
  params: Float32Array;
  inp: SeqInputs;
  targets: Targets;
  seed: number;
  loss: StepLoss;
}
/** The share's mean loss and its gradient, flat in `paramShapes` order. */
export interface ShareResult {
  loss: number;
  grads: Float32Array;
  error?: string;
}

/** Arrays laid end to end: the flat form parameters and gradients travel in between threads. */
export function concatFloat32(parts: Float32Array[]): Float32Array<ArrayBuffer> {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
