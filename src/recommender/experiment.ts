/**
 * An A/B holdout: each shopper is drawn once into `personalized` or `control` (control keeps the merchant's
 * order and never downloads the model), and the arm is announced to the shop's own analytics when the
 * shopper is actually shown a grid or a ranking. shelfwise itself sends nothing anywhere.
 */
import { ShelfwiseError } from '../shared/index.js';
import type { HistoryCache } from './history-cache.js';

export type Arm = 'personalized' | 'control';
export interface ExperimentOptions {
  /** The experiment's name: a new name draws every shopper again. */
  name: string;
  /** Share of shoppers in `control`, 0…1. */
  holdout: number;
}
export interface ExperimentInfo {
  name: string;
  arm: Arm;
}

/** Checks an `experiment` option; throws `invalid_options` naming the problem. */
export function checkExperiment(e: unknown): ExperimentOptions {
  const bad = (m: string) => new ShelfwiseError('invalid_options', `createRecommender: experiment.${m}`);
  if (!e || typeof e !== 'object') throw bad('must be { name, holdout }');
  const { name, holdout } = e as Record<string, unknown>;
  if (typeof name !== 'string' || !name.trim() || name.length > 100)
    throw bad('name must be a non-empty string of at most 100 characters');
  if (typeof holdout !== 'number' || !Number.isFinite(holdout) || holdout < 0 || holdout > 1)
    throw bad(`holdout must be a number from 0 to 1, got ${String(holdout).slice(0, 40)}`);
  return { name, holdout };
}

/** A uniform number in [0, 1) from a string (FNV-1a, then a 32-bit mix). */
export function unit(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** The arm of a shopper's random id in an experiment: the id salted with the experiment's name. */
export function armOf(id: string, e: ExperimentOptions): Arm {
  return unit(`${e.name}\u0000${id}`) < e.holdout ? 'control' : 'personalized';
}

/** A QA override from the page's URL (`?shelfwise_arm=control|personalized`), if any. */
export function urlArm(): Arm | null {
  try {
    const v = new URL(globalThis.location?.href ?? '').searchParams.get('shelfwise_arm');
    return v === 'control' || v === 'personalized' ? v : null;
  } catch {
    return null;
  }
}

export function randomId(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * Announces the arm once per page view: GA4 `experience_impression` on `window.dataLayer` and Segment
 * `Experiment Viewed` when those exist and `consent` allows, and a `shelfwise:exposure` window event always.
 */
export function exposer(info: ExperimentInfo, consent: boolean): () => void {
  let sent = false;
  return () => {
    if (sent) return;
    sent = true;
    const w = globalThis as unknown as {
      dataLayer?: unknown;
      analytics?: { track?: (e: string, p: object) => void };
      dispatchEvent?: (e: Event) => boolean;
    };
    const variant = `shelfwise-${info.name}-${info.arm}`;
    if (consent) {
      try {
        if (Array.isArray(w.dataLayer))
          w.dataLayer.push({ event: 'experience_impression', exp_variant_string: variant });
      } catch {
        /* the shop's dataLayer */
      }
      try {
        if (typeof w.analytics?.track === 'function')
          w.analytics.track('Experiment Viewed', {
            experiment_id: info.name,
            experiment_name: info.name,
            variation_id: info.arm,
            variation_name: info.arm,
          });
      } catch {
        /* the shop's analytics */
      }
    }
    try {
      w.dispatchEvent?.(new CustomEvent('shelfwise:exposure', { detail: { ...info, variant } }));
    } catch {
      /* no window */
    }
  };
}

/**
 * This shopper's arm: forced (option or URL), or drawn from their random id, kept beside the events (with
 * consent; otherwise for this page only) so every page, tab and visit draws the same.
 */
export async function draw(
  e: ExperimentOptions,
  forced: Arm | undefined,
  history: HistoryCache,
  report: (e: unknown) => void,
): Promise<ExperimentInfo> {
  const arm = forced ?? urlArm();
  if (arm) return { name: e.name, arm };
  let id: string | undefined;
  try {
    id = await history.kv.getKV<string>(EXPERIMENT_ID);
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) {
      id = randomId();
      await history.kv.setKV(EXPERIMENT_ID, id);
    }
  } catch (err) {
    report(err);
    id ??= randomId();
  }
  return { name: e.name, arm: armOf(id, e) };
}
const EXPERIMENT_ID = 'experiment-id';
