/** Error reporting and option checks, before anything is opened or fetched. */
import { asShelfwiseError, ShelfwiseError } from '../shared/index.js';
import type { FinetuneConfig, RecommenderOptions } from './types.js';
import { checkExperiment, type ExperimentOptions } from './experiment.js';

/** Distinct errors logged to the console per page, at most (later ones still reach `onError`). */
const LOGGED = 50;

/**
 * A reporter: every error to `onError` (a throwing handler is ignored), each distinct one once to the
 * console. Returns the error as a ShelfwiseError.
 */
export function reporter(onError?: (e: ShelfwiseError) => void): (e: unknown) => ShelfwiseError {
  const logged = new Set<string>();
  return (e) => {
    const err = asShelfwiseError(e, 'internal');
    try {
      onError?.(err);
    } catch {
      /* the shop's handler must not break us either */
    }
    const key = `${err.code}:${err.message.slice(0, 200)}`;
    if (!logged.has(key) && logged.size < LOGGED) {
      logged.add(key);
      console.warn(`[shelfwise] ${err.message.slice(0, 500)}`);
    }
    return err;
  };
}

export interface Checked {
  finetune: FinetuneConfig | null;
  maxEvents: number;
  modelWait: number;
  experiment: ExperimentOptions | null;
}

/** Checks the options; throws an `invalid_options` ShelfwiseError naming the first bad one. */
export function checkOptions(options: RecommenderOptions): Checked {
  const bad = (m: string) => new ShelfwiseError('invalid_options', `createRecommender: ${m}`);
  if (!options || typeof options !== 'object' || typeof options.model !== 'string' || !options.model)
    throw bad('options.model (URL of model.json) is required');
  const ft: FinetuneConfig | null = options.finetune ? (options.finetune === true ? {} : options.finetune) : null;
  for (const k of ['everyEvents', 'steps', 'lr', 'l2'] as const) {
    const v = ft?.[k];
    if (
      v !== undefined &&
      !(typeof v === 'number' && Number.isFinite(v) && v >= (k === 'l2' ? 0 : k === 'lr' ? Number.MIN_VALUE : 1))
    ) {
      throw bad(
        `finetune.${k} must be a ${k === 'l2' ? 'non-negative' : 'positive'} finite number, got ${String(v).slice(0, 40)}`,
      );
    }
  }
  if (
    options.allowOrigins !== undefined &&
    !(Array.isArray(options.allowOrigins) && options.allowOrigins.every((o) => typeof o === 'string'))
  )
    throw bad('allowOrigins must be an array of origin strings');
  if (
    options.integrity !== undefined &&
    !(
      options.integrity &&
      typeof options.integrity === 'object' &&
      Object.values(options.integrity).every((h) => typeof h === 'string')
    )
  )
    throw bad('integrity must map file names to "sha384-…" strings');
  const count = (name: string, v: unknown, dflt: number) => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw bad(`${name} must be a non-negative finite number, got ${describe(v)}`);
    return v;
  };
  if (options.arm !== undefined && options.arm !== 'control' && options.arm !== 'personalized')
    throw bad(`arm must be 'control' or 'personalized', got ${String(options.arm).slice(0, 40)}`);
  const experiment = options.experiment === undefined ? null : checkExperiment(options.experiment);
  return {
    experiment,
    finetune: ft,
    maxEvents: Math.max(1, Math.floor(count('maxEvents', options.maxEvents, 1000))),
    modelWait: count('modelWait', options.modelWait, 3000),
  };
}

/** A value as an error message quotes it: its first 40 characters, an object by its kind. */
function describe(v: unknown): string {
  return v !== null && typeof v === 'object' ? 'an object' : String(v).slice(0, 40);
}
