/**
 * Command-line values checked before any work starts: a typo (`--epochs 3O`, `--quantize f16`) is a clear
 * error naming the flag, not a silent NaN or default discovered hours into a training run.
 */
export class FlagError extends Error {}

export interface NumRule {
  /** Whole numbers only. */
  int?: boolean;
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** Values must be strictly above this. */
  above?: number;
  /** Values must be strictly below this. */
  below?: number;
}

/** The number a flag holds; `undefined` stays undefined (the caller's default applies). */
export function num(flag: string, v: string | undefined, r?: NumRule): number;
export function num(flag: string, v: string | undefined, r: NumRule, optional: true): number | undefined;
export function num(flag: string, v: string | undefined, r: NumRule = {}, optional = false): number | undefined {
  if (v === undefined) {
    if (optional) return undefined;
    throw new FlagError(`--${flag} needs a value`);
  }
  const x = v.trim() === '' ? NaN : Number(v);
  const want = [
    r.int ? 'a whole number' : 'a number',
    r.min !== undefined ? `≥ ${r.min}` : '',
    r.above !== undefined ? `> ${r.above}` : '',
    r.max !== undefined ? `≤ ${r.max}` : '',
    r.below !== undefined ? `< ${r.below}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const ok =
    Number.isFinite(x) &&
    (!r.int || Number.isInteger(x)) &&
    (r.min === undefined || x >= r.min) &&
    (r.max === undefined || x <= r.max) &&
    (r.above === undefined || x > r.above) &&
    (r.below === undefined || x < r.below);
  if (!ok) throw new FlagError(`--${flag} must be ${want}, got "${v}"`);
  return x;
}

/** One of a fixed set of words. */
export function choice<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new FlagError(`--${flag} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

/** A calendar date written YYYY-MM-DD (a real day: 2011-02-30 is refused). */
export function isoDate(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(v + 'T00:00:00Z') : NaN;
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== v)
    throw new FlagError(`--${flag} must be a date YYYY-MM-DD, got "${v}"`);
  return v;
}

/**
 * Runs a script's flag parsing; a bad flag (or an unknown one, from node:util's parseArgs) prints
 * `<script>: <message>` and the usage line, and exits with status 2.
 */
export function parseFlags<T>(script: string, usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    const err = e as Error & { code?: string };
    if (e instanceof FlagError || err.code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${script}: ${err.message}\nusage: ${usage}`);
      process.exit(2);
    }
    throw e;
  }
}

/**
 * `--exclude-seen` / `--include-seen`: true, false, or undefined (the data set's default). Both together
 * are refused rather than one silently winning.
 */
export function seenFlag(v: { 'exclude-seen'?: boolean; 'include-seen'?: boolean }): boolean | undefined {
  if (v['exclude-seen'] && v['include-seen'])
    throw new FlagError('--exclude-seen and --include-seen contradict each other: give one');
  return v['exclude-seen'] ? true : v['include-seen'] ? false : undefined;
}
