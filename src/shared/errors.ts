/** The one error type every part of shelfwise reports, with a fixed set of codes. */

export type ShelfwiseErrorCode =
  | 'invalid_event'
  | 'invalid_options'
  | 'storage_unavailable'
  | 'storage_failed'
  | 'storage_full'
  | 'model_not_found'
  | 'model_fetch_failed'
  | 'model_corrupt'
  | 'model_failed'
  | 'model_not_ready'
  | 'backend_failed'
  | 'csp_blocked'
  | 'finetune_failed'
  | 'finetune_discarded'
  | 'finetune_invalid'
  | 'disposed'
  | 'internal';

/**
 * Every error shelfwise reports (`onError`, `shelfwise:error`, rejected `track()` calls). Test the `code`,
 * not `instanceof`: the script tag and the ES module build each carry the class.
 */
export class ShelfwiseError extends Error {
  constructor(
    public readonly code: ShelfwiseErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ShelfwiseError';
  }
}

/** Whether `e` is a ShelfwiseError, from this bundle or another (checked by shape, not class). */
export function isShelfwiseError(e: unknown): e is ShelfwiseError {
  return (
    e instanceof ShelfwiseError ||
    (!!e &&
      typeof e === 'object' &&
      (e as Error).name === 'ShelfwiseError' &&
      typeof (e as ShelfwiseError).code === 'string')
  );
}

/** `e` itself when it is a ShelfwiseError, else one with `code`, the message prefixed, and `e` as the cause. */
export function asShelfwiseError(e: unknown, code: ShelfwiseErrorCode, prefix = ''): ShelfwiseError {
  if (isShelfwiseError(e)) return e;
  return new ShelfwiseError(code, prefix + String((e as Error)?.message ?? e), { cause: e });
}
