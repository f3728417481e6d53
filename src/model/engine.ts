/**
 * The model engine, shared by the page's lazily loaded runtime chunk and the fine-tuning worker: it picks
 * a backend, loads a model directory (Cache API, revalidated by version), and re-embeds the shopper's
 * history after each interaction, incrementally (one new position with cached keys/values) when the
 * history only grew.
 */
import * as tf from '@tensorflow/tfjs-core';
import { forward, step, type KVCache, type Params } from './encoder.js';
import { hasReturn, readType, type ModelConfig } from './config.js';
import { returnCandidates } from './history.js';
import { logSumExp, mixture, returnWeights, type ReturnWeights } from './mixture.js';
import type { Companions, VisitMeta, VisitScores } from './visit.js';
import type { Content, ContentTable } from './content.js';
import {
  decodeCode,
  decodeCompanionShard,
  decodeHead,
  decodeShard,
  itemKeys,
  shardFile,
  type CompanionShard,
  type Head,
  type ItemsMeta,
  type Shard,
} from './items.js';

/** The visit part's code, loaded with its file (after the first ranking), not before it. */
type VisitPart = { c: Companions; mod: typeof import('./visit.js'); base?: Float32Array };
type ContentPart = { t: ContentTable; mod: typeof import('./content.js') };
import { gapBuckets, packBatch, windowStart, type RowSeq } from './inputs.js';
import { typeCode, VISIT_GAP, type EventType } from './features.js';
import { checkModelJson, checkVocab, contentVersion, decodeParams, type ModelJson, type Vocab } from './weights.js';
import { asShelfwiseError, ShelfwiseError, type BackendName } from '../shared/index.js';

export type { BackendName };
export const BACKENDS: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** Where the wasm binaries are: a URL prefix, or each file's URL by its name (tfjs's setWasmPaths). */
export type WasmPaths = string | Record<string, string>;

const loaders: Record<BackendName, (wasm: WasmPaths) => Promise<unknown>> = {
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
  webgl: () => import('@tensorflow/tfjs-backend-webgl'),
  wasm: async (base) => {
    const w = await import('@tensorflow/tfjs-backend-wasm');
    // One thread: the page is rarely cross-origin isolated, the model's ops are too small to gain from
    // threads, and the self-contained builds leave the threaded glue out (build.ts).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    w.setWasmPaths(base);
  },
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
};

/**
 * Whether the browser says `b` runs in software (SwiftShader, llvmpipe, a fallback adapter): on such a
 * GPU backend this model is many times slower than on wasm (measured in headless Chromium: WebGL 30 ms
 * p50 per interaction against wasm's 4.5). Returns the reason, or null.
 */
export async function softwareRendered(b: BackendName): Promise<string | null> {
  const soft = /swiftshader|llvmpipe|softpipe|software|basic render/i;
  try {
    if (b === 'webgpu') {
      const a = await gpuAdapter();
      if (!a) return null;
      const info = a.info ?? {};
      const text = [info.vendor, info.architecture, info.device, info.description].join(' ');
      return a.isFallbackAdapter || soft.test(text)
        ? `webgpu adapter is software (${text.trim() || 'fallback adapter'})`
        : null;
    }
    if (b === 'webgl' && typeof document !== 'undefined') {
      const gl =
        document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
      if (!gl) return null;
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
      gl.getExtension('WEBGL_lose_context')?.loseContext();
      return soft.test(renderer) ? `webgl renderer is software (${renderer.slice(0, 80)})` : null;
    }
  } catch {
    /* unknown: treat as hardware */
  }
  return null;
}

type Adapter = { isFallbackAdapter?: boolean; info?: Record<string, string> };
const NO_ADAPTER = 'shelfwise:no-webgpu-adapter';
let adapter: Promise<Adapter | null> | null = null;

/**
 * The browser's WebGPU adapter, asked once per page; null where there is none. Without an adapter the
 * tfjs WebGPU backend is never loaded (it would log its failure on every page load), and the answer is
 * kept for the browsing session, so later pages do not ask again (Chromium logs "No available adapters.").
 */
export function gpuAdapter(): Promise<Adapter | null> {
  return (adapter ??= (async () => {
    const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<Adapter | null> } } | undefined)?.gpu;
    if (!gpu) return null;
    try {
      if (globalThis.sessionStorage?.getItem(NO_ADAPTER)) return null;
    } catch {
      /* storage unavailable: ask */
    }
    const a = await gpu.requestAdapter().catch(() => null);
    if (!a)
      try {
        globalThis.sessionStorage?.setItem(NO_ADAPTER, '1');
      } catch {
        /* storage unavailable or full */
      }
    return a;
  })());
}

/** Whether the page's Content-Security-Policy forbids compiling WebAssembly (no 'wasm-unsafe-eval'). */
export function cspBlocksWasm(): boolean {
  try {
    new WebAssembly.Module(Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0));
    return false;
  } catch (e) {
    return e instanceof EvalError || /content.security|unsafe-eval|CSP/i.test(String((e as Error)?.message));
  }
}

/** The backend a model runs on, and why that one. */
export interface BackendChoice {
  backend: BackendName;
  reason: string;
}

/**
 * Starts `pref` (or, for 'auto', the first of webgpu → webgl → wasm → cpu that works, skipping a GPU
 * backend that the browser says is software-rendered): loads its package, initializes it and runs one op.
 * An explicit choice that fails is an error, not a silent fallback.
 */
export async function startBackend(pref: BackendName | 'auto', wasmBase: WasmPaths): Promise<BackendChoice> {
  const order = pref === 'auto' ? BACKENDS : [pref];
  if (pref !== 'auto' && !BACKENDS.includes(pref))
    throw new ShelfwiseError(
      'backend_failed',
      `unknown backend "${String(pref).slice(0, 40)}" (auto, ${BACKENDS.join(', ')})`,
    );
  const errors: string[] = [];
  for (const b of order) {
    if (b === 'webgpu' && !(await gpuAdapter())) {
      errors.push(
        (globalThis.navigator as { gpu?: unknown } | undefined)?.gpu
          ? 'webgpu: the browser has no WebGPU adapter'
          : 'webgpu: navigator.gpu is not available',
      );
      continue;
    }
    if (pref === 'auto' && (b === 'webgpu' || b === 'webgl')) {
      const why = await softwareRendered(b);
      if (why) {
        errors.push(why);
        continue;
      }
    }
    if (b === 'wasm' && typeof WebAssembly !== 'undefined' && cspBlocksWasm()) {
      const why =
        "the page's Content-Security-Policy blocks WebAssembly: add 'wasm-unsafe-eval' to its script-src (docs/installing.md, Content-Security-Policy)";
      if (pref === 'wasm') throw new ShelfwiseError('csp_blocked', `wasm: ${why}`);
      errors.push(`wasm: ${why}`);
      continue;
    }
    try {
      if (tf.getBackend() !== b) {
        await loaders[b](wasmBase);
        if (!(await tf.setBackend(b))) throw new Error('initialization failed');
        await tf.ready();
      }
      const t = tf.add(tf.scalar(1), tf.scalar(1));
      const v = (await t.data())[0];
      t.dispose();
      if (v !== 2) throw new Error('a test op gave a wrong result');
      return {
        backend: b,
        reason:
          pref !== 'auto'
            ? 'chosen by the page'
            : errors.length
              ? `auto: ${errors.join('; ')}`
              : 'auto: the first that started',
      };
    } catch (e) {
      errors.push(`${b}: ${(e as Error)?.message ?? e}`);
    }
  }
  throw new ShelfwiseError('backend_failed', `no backend could start (${errors.join('; ')})`);
}

const CACHE_NAME = 'shelfwise-models';
/** A cached file's key: its URL and this query naming the model version it belongs to. */
const VERSION_QUERY = '?shelfwise-version=';

async function openCache(use: boolean): Promise<Cache | null> {
  if (!use || typeof caches === 'undefined') return null;
  try {
    return await caches.open(CACHE_NAME);
  } catch {
    return null;
  }
}

async function getOk(url: string, what: string, init?: RequestInit): Promise<Response> {
  let r: Response;
  try {
    r = await fetch(url, init);
  } catch (e) {
    throw new ShelfwiseError('model_fetch_failed', `${what}: network error fetching ${url}`, { cause: e });
  }
  if (!r.ok) throw new ShelfwiseError('model_not_found', `${what}: HTTP ${r.status} for ${url}`);
  return r;
}

export interface LoadedFiles {
  json: ModelJson;
  shards: ArrayBuffer[];
  vocab: Vocab;
  fromCache: boolean;
  /** Fetches another file model.json names, with the same cache, origin and integrity checks. */
  file: (rel: string) => Promise<ArrayBuffer>;
}

/** How model files are checked as they load. */
export interface FileChecks {
  /** Cache model files with the Cache API (revalidated by the model's version). */
  useCache?: boolean;
  /** Origins besides model.json's own that its weight and vocabulary paths may point to. */
  allowOrigins?: string[];
  /**
   * SRI-style hashes per file name as model.json names it (and "model.json" itself), e.g.
   * `{ "weights.bin": "sha384-..." }`: a file whose bytes do not match is refused. The trainer writes them
   * into the model card.
   */
  integrity?: Record<string, string>;
}

/** A Cache API write that fails (a full quota, a private window) only costs the cache, never the load. */
async function cachePut(cache: Cache | null, key: string, r: Response): Promise<void> {
  try {
    await cache?.put(key, r);
  } catch {
    /* served from the network next time too */
  }
}

/** Checks `bytes` against an SRI-style hash (sha256/384/512, base64). */
async function checkIntegrity(name: string, bytes: ArrayBuffer, expected: string | undefined): Promise<void> {
  if (!expected) return;
  const m = /^(sha256|sha384|sha512)-(.+)$/.exec(expected.trim());
  if (!m)
    throw new ShelfwiseError('invalid_options', `integrity for ${name}: expected "sha256-…", "sha384-…" or "sha512-…"`);
  const digest = await crypto.subtle.digest(m[1].replace('sha', 'SHA-'), bytes);
  const got = btoa(String.fromCharCode(...new Uint8Array(digest)));
  if (got !== m[2])
    throw new ShelfwiseError(
      'model_corrupt',
      `integrity check failed for ${name}: its bytes do not match the expected ${m[1]} hash (tampered or replaced file)`,
    );
}

/**
 * Fetches model.json (revalidated every time, `cache: 'no-cache'`), then the shards and vocabulary from the
 * Cache API when this version is there, else from the network (and stores them, dropping other versions).
 * Offline with a cached copy, the cached model.json is used. Weight and vocabulary paths must stay on
 * model.json's origin (or `allowOrigins`); with `integrity`, each named file's bytes are checked; the
 * shards' bytes are checked against the content version model.json names (when it is one).
 */
export async function fetchModelFiles(url: string, checks: FileChecks = {}): Promise<LoadedFiles> {
  const cache = await openCache(checks.useCache !== false);
  const abs = new URL(url, globalThis.location?.href).href;
  let json: ModelJson;
  try {
    const r = await getOk(abs, 'model.json', { cache: 'no-cache' });
    const text = await r.text();
    await checkIntegrity('model.json', new TextEncoder().encode(text).buffer, checks.integrity?.['model.json']);
    try {
      json = JSON.parse(text) as ModelJson;
    } catch {
      throw new ShelfwiseError('model_corrupt', `model.json at ${abs} is not valid JSON`);
    }
    checkModelJson(json);
    await cachePut(cache, abs, new Response(text, { headers: { 'content-type': 'application/json' } }));
  } catch (e) {
    const cached = await cache?.match(abs).catch(() => undefined);
    const code = (e as ShelfwiseError).code;
    if (!cached || code === 'model_corrupt' || code === 'model_not_found' || code === 'invalid_options')
      throw asShelfwiseError(e, 'model_corrupt');
    json = checkModelJson(await cached.json());
  }
  const meta = json.userDefinedMetadata.shelfwise;
  const allowed = new Set([
    new URL(abs).origin,
    ...(checks.allowOrigins ?? []).map((o) => {
      try {
        return new URL(o).origin;
      } catch {
        return o;
      }
    }),
  ]);
  let fromCache = true;
  // Other versions' copies of this model's files, by URL: listed once, on the first file not cached (a
  // sharded directory fetches a file per product shown; listing the cache for each was quadratic).
  let older: Promise<Map<string, Request[]>> | null = null;
  const stale = (): Promise<Map<string, Request[]>> =>
    (older ??= cache!.keys().then(
      (reqs) => {
        const m = new Map<string, Request[]>();
        for (const q of reqs) {
          const [u, version] = q.url.split(VERSION_QUERY);
          if (version === undefined || version === meta.version) continue;
          if (!m.has(u)) m.set(u, []);
          m.get(u)!.push(q);
        }
        return m;
      },
      () => new Map(),
    ));
  const file = async (rel: string): Promise<ArrayBuffer> => {
    const u = new URL(rel, abs).href;
    if (!allowed.has(new URL(u).origin))
      throw new ShelfwiseError(
        'model_corrupt',
        `model.json points ${rel.slice(0, 100)} to another origin (${new URL(u).origin}); allow it with the allowOrigins option`,
      );
    const key = `${u}${VERSION_QUERY}${meta.version}`;
    let r = await cache?.match(key).catch(() => undefined);
    if (!r) {
      fromCache = false;
      r = await getOk(u, rel);
      if (cache) {
        for (const req of (await stale()).get(u) ?? ([] as Request[])) await cache.delete(req).catch(() => false);
        await cachePut(cache, key, r.clone());
      }
    }
    const bytes = await r.arrayBuffer();
    await checkIntegrity(rel, bytes, checks.integrity?.[rel]);
    return bytes;
  };
  const paths = json.weightsManifest.flatMap((g) => g.paths);
  const shards = await Promise.all(paths.map((p) => file(p)));
  if (/^[0-9a-f]{8}$/.test(meta.version)) {
    const all = new Uint8Array(shards.reduce((n, b) => n + b.byteLength, 0));
    let off = 0;
    for (const b of shards) {
      all.set(new Uint8Array(b), off);
      off += b.byteLength;
    }
    if (contentVersion(all) !== meta.version)
      throw new ShelfwiseError(
        'model_corrupt',
        `the weights do not match model.json's version ${meta.version} (a tampered, truncated or mixed-up weights file)`,
      );
  }
  let vocab: Vocab;
  try {
    // A sharded item directory names no product up front: the page learns ids as it looks them up.
    vocab = meta.items
      ? { ids: [] }
      : checkVocab(JSON.parse(new TextDecoder().decode(await file(meta.vocab))), meta.config);
  } catch (e) {
    throw asShelfwiseError(e, 'model_corrupt', 'vocabulary: ');
  }
  return { json, shards, vocab, fromCache, file };
}

/** A history event the model can read. */
export interface ModelEvent {
  itemId?: string;
  type: EventType;
  ts: number;
}

interface Known {
  row: number;
  type: number;
  ts: number;
}

export interface Embedding {
  /** User vector (d floats). */
  user: Float32Array;
  /** Attention of the last position over the window's events (oldest first). */
  attention: Float32Array;
  /** Embedding rows of the window's events (oldest first). */
  rows: number[];
  /** True when computed with the incremental path. */
  incremental: boolean;
  /** With the return part: the user vector · every item-table row (row 0 included), computed on the backend. */
  logits?: Float32Array;
}

/** A sharded item directory as the page holds it: the codebooks, the head's index, the shards fetched so far. */
interface ItemDirectory {
  meta: ItemsMeta;
  codebooks: Float32Array;
  /** Every row the page holds (the head's popular products first), by "shardKey:key", as companions name them. */
  keyRow: Map<string, number>;
  /** The kinds of shard whose failure was reported (once each per directory). */
  warned: Set<string>;
  /** The visit part's companion shards fetched so far, and each session product's list (by row). */
  companionShards: Map<string, Promise<{ s: CompanionShard; index: Map<number, number> } | null>>;
  lists: Map<number, { keys: string[]; w: Float32Array }>;
  /** The companions over the rows held, rebuilt when lists or rows were added. */
  built: { V: number; lists: number; c: Companions } | null;
  /** Sample rows (standing for the rest of the catalog where the model normalizes): first row, count, log weight. */
  sample: { from: number; count: number; logWeight: number };
  /** Ids looked up and not in the directory (products added since: content or unknownPrior). */
  absent: Set<string>;
  shards: Map<string, Promise<{ s: Shard; index: Map<number, number> } | null>>;
  file: (rel: string) => Promise<ArrayBuffer>;
}

export class ModelRuntime {
  readonly rowOf: Map<string, number>;
  /**
   * Item embeddings on the JS side ([rows, d]), for scoring candidates without a device round trip: every
   * product of an item table, or the products a sharded directory has looked up so far (with its head).
   */
  itemEmb: Float32Array;
  /** A sharded item directory (null: the weights hold every product's row). */
  private items: ItemDirectory | null = null;
  private state: { start: number; window: Known[]; cache: KVCache; last?: Embedding } | null = null;
  /**
   * The keys and values of the window the next event will start (when it moves the window's start),
   * computed while the page is idle: that event then steps from it instead of recomputing the window.
   */
  private standby: { start: number; window: Known[]; cache: KVCache } | null = null;
  private standbyTimer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;
  /** The shopper's adaptation (finetune.ts): added to the user vector when scoring. */
  private userBias: Float32Array | null = null;
  private biasLogits: { bias: Float32Array; z: Float32Array } | null = null;
  private itemT: tf.Tensor2D | null;
  /** Why this backend (auto's skipped candidates, or the page's choice). */
  backendReason = '';
  /** The return part's weights (null: a plain sequence model). */
  private readonly returnW: ReturnWeights | null;
  /** Fetches the visit part's companions file (set by load; null: the model has none). */
  private visitFile: (() => Promise<VisitPart>) | null = null;
  private visitLoad: Promise<VisitPart | null> | null = null;
  private visitMeta: VisitMeta | null = null;
  private visitPart: VisitPart | null = null;
  /** Fetches the content part's token vectors (null: the model has none). */
  private contentFile: (() => Promise<ContentPart>) | null = null;
  private contentLoad: Promise<ContentPart | null> | null = null;

  constructor(
    readonly cfg: ModelConfig,
    readonly params: Params,
    readonly vocab: Vocab,
    readonly version: string,
    readonly backend: BackendName,
  ) {
    this.rowOf = new Map(vocab.ids.flatMap((id, i) => (id ? [[id, i + 1] as [string, number]] : [])));
    this.itemEmb = params.item_emb.dataSync() as Float32Array;
    this.returnW = hasReturn(cfg) ? returnWeights(params, cfg) : null;
    // The item table transposed once ([d, V]): the per-interaction catalog matmul then reads it as it lies.
    this.itemT = this.returnW ? (tf.tidy(() => tf.transpose(params.item_emb)) as tf.Tensor2D) : null;
  }

  static async load(
    url: string,
    backend: BackendName | 'auto',
    wasmBase: WasmPaths,
    checks: FileChecks = {},
  ): Promise<ModelRuntime> {
    const { backend: b, reason } = await startBackend(backend, wasmBase);
    let f: LoadedFiles;
    try {
      f = await fetchModelFiles(url, checks);
    } catch (e) {
      // A refused file may have come from the cache: drop it so the next load refetches.
      if ((e as ShelfwiseError).code === 'model_corrupt' && typeof caches !== 'undefined')
        await caches.delete(CACHE_NAME).catch(() => undefined);
      throw e;
    }
    let params: Params;
    try {
      params = decodeParams(f.json, f.shards);
    } catch (e) {
      // A bad copy in the cache must not stick: drop it so the next load refetches.
      if (typeof caches !== 'undefined') await caches.delete(CACHE_NAME).catch(() => undefined);
      throw new ShelfwiseError('model_corrupt', (e as Error).message, { cause: e });
    }
    const meta = f.json.userDefinedMetadata.shelfwise;
    // A part's file (the visit part's companions, the content part's tokens), checked against model.json.
    const partFile = async (p: { path: string; version: string }) => {
      const b = await f.file(p.path);
      if (/^[0-9a-f]{8}$/.test(p.version) && contentVersion(new Uint8Array(b)) !== p.version)
        throw new Error(`${p.path} does not match model.json's version ${p.version}`);
      return b;
    };
    let dir: ItemDirectory | null = null;
    if (meta.items) {
      let head: Head;
      try {
        head = decodeHead(await partFile({ path: meta.items.head, version: meta.items.version }), meta.items.m);
      } catch (e) {
        for (const t of Object.values(params)) t.dispose();
        throw asShelfwiseError(e, 'model_corrupt', 'item directory: ');
      }
      dir = headTable(meta.items, head, params, meta.config, f.file);
    }
    const rt = new ModelRuntime(
      meta.config,
      params,
      dir ? { ids: new Array<string>(params.item_emb.shape[0] - 1).fill('') } : f.vocab,
      meta.version,
      b,
    );
    rt.items = dir;
    rt.backendReason = reason;
    const vm = meta.visit;
    rt.visitMeta = vm ?? null;
    // A sharded directory's companions come per session product (sessionCompanions), none up front.
    if (vm?.sharded)
      rt.visitFile = async () => ({
        c: { start: new Uint32Array(1), ids: new Uint32Array(0), w: new Float32Array(0) },
        mod: await import('./visit.js'),
      });
    else if (vm)
      rt.visitFile = async () => {
        const [b, mod] = await Promise.all([partFile(vm), import('./visit.js')]);
        return { c: mod.decodeCompanions(b, rt.V), mod };
      };
    const cm = meta.content;
    if (cm)
      rt.contentFile = async () => {
        const [b, mod] = await Promise.all([partFile(cm), import('./content.js')]);
        return { t: mod.decodeContent(b, rt.cfg.d), mod };
      };
    await rt.embed([]); // warm-up: compiles shaders / kernels once
    return rt;
  }

  /** Whether the model's products come from a sharded item directory (ensure() then fetches their codes). */
  get sharded(): boolean {
    return !!this.items;
  }

  /** Rows of the item table the page holds (every product's, or those a sharded directory has looked up). */
  get V(): number {
    return this.itemEmb.length / this.cfg.d;
  }

  /**
   * Makes the products `ids` known to the model where its item directory is sharded: fetches (once) the
   * shards that hold them and adds their rows. An id in no shard is a product the model never saw; a shard
   * that fails to load logs a warning and its products stay unknown this time. A no-op for an item table.
   */
  async ensure(ids: Iterable<string | undefined>, codes?: Map<string, string>): Promise<void> {
    const it = this.items;
    if (!it) return;
    const want = new Map<number, Array<[string, number, number]>>();
    // Codes the page was handed (`data-shelfwise-code`): those products need no shard.
    const given: Array<{ id: string; key: string; s: Shard; i: number }> = [];
    const queued = new Set<string>();
    for (const id of ids) {
      if (id === undefined || this.rowOf.has(id) || it.absent.has(id) || queued.has(id)) continue;
      queued.add(id);
      const [sk, k] = itemKeys(id);
      const h = it.keyRow.get(`${sk}:${k}`);
      if (h !== undefined) {
        this.rowOf.set(id, h);
        this.vocab.ids[h - 1] = id;
        continue;
      }
      const code = codes?.get(id);
      if (code) {
        let b: Uint8Array | null = null;
        try {
          b = Uint8Array.from(atob(code), (ch) => ch.charCodeAt(0));
        } catch {
          /* not base64: fetched as if it had none */
        }
        const m = it.meta.m;
        if (b && (b.length === m || b.length === m + 1)) {
          given.push({
            id,
            key: `${sk}:${k}`,
            s: { m, keys: Uint32Array.of(k), codes: b, ret: b.length > m ? b.subarray(m) : null },
            i: 0,
          });
          continue;
        }
      }
      const n = sk % it.meta.shards;
      let l = want.get(n);
      if (!l) want.set(n, (l = []));
      l.push([id, sk, k]);
    }
    if (given.length) this.grow(given);
    if (!want.size) return;
    const got = await Promise.all(
      [...want.keys()].map((n) =>
        shardOnce(it.shards, shardFile(it.meta.path, n), it.file, (b) => decodeShard(b, it.meta.m), {
          what: 'an item shard',
          then: 'its products keep their place',
          warned: it.warned,
        }),
      ),
    );
    if (this.disposed) return;
    const add: Array<{ id: string; key: string; s: Shard; i: number }> = [];
    [...want.values()].forEach((list, j) => {
      const g = got[j];
      if (g)
        for (const [id, sk, k] of list) {
          const i = g.index.get(k);
          if (i === undefined) it.absent.add(id);
          else if (!this.rowOf.has(id)) add.push({ id, key: `${sk}:${k}`, s: g.s, i }); // not added meanwhile
        }
    });
    if (add.length) this.grow(add);
  }

  /** Adds rows for products found in the shards: the JS table, the backend's table and the return part's propensities. */
  private grow(add: Array<{ id: string; key: string; s: Shard; i: number }>): void {
    const it = this.items!,
      d = this.cfg.d,
      m = it.meta.m,
      V0 = this.V,
      V1 = V0 + add.length;
    const E = new Float32Array(V1 * d);
    E.set(this.itemEmb);
    const w = this.returnW;
    const ret = w ? new Float32Array(V1) : null;
    ret?.set(w!.item);
    add.forEach(({ id, key, s, i }, k) => {
      decodeCode(it.codebooks, m, d, s.codes, i * m, E, (V0 + k) * d);
      it.keyRow.set(key, V0 + k);
      if (ret && s.ret) ret[V0 + k] = s.ret[i] * (it.meta.retScale ?? 0) + (it.meta.retMin ?? 0);
      this.rowOf.set(id, V0 + k);
      this.vocab.ids[V0 + k - 1] = id;
    });
    this.itemEmb = E;
    this.params.item_emb.dispose();
    this.params.item_emb = tf.tensor2d(E, [V1, d]);
    if (w && ret) {
      w.item = ret;
      this.params.ret_item?.dispose();
      this.params.ret_item = tf.tensor2d(ret, [V1, 1]);
    }
    if (this.itemT) {
      this.itemT.dispose();
      this.itemT = tf.tidy(() => tf.transpose(this.params.item_emb)) as tf.Tensor2D;
    }
    // Events of these products now count in the history the model reads; catalog logits grew.
    this.knownFor = null;
    this.biasLogits = null;
  }

  /** The sample rows' weight in catalog logits: each stands for the many products it was drawn from. */
  private weighSample(z: Float32Array): Float32Array {
    const s = this.items?.sample;
    if (s) for (let r = s.from; r < s.from + s.count && r < z.length; r++) z[r] += s.logWeight;
    return z;
  }

  /** First index of the window the model reads for a known-history length n (inputs.ts, shared with offline evaluation). */
  windowStart(n: number): number {
    return windowStart(n, this.cfg.maxLen);
  }

  /** The known events of a history, the window the model reads of them (inputs.ts) and the window as a sequence. */
  private window(history: ModelEvent[]): { all: Known[]; start: number; win: Known[]; seq: RowSeq } {
    const all = this.known(history);
    const start = this.windowStart(all.length);
    const win = all.slice(start);
    return { all, start, win, seq: asSeq(win, start > 0 ? all[start - 1].ts : undefined) };
  }

  /**
   * The last history read and its known events: a ranking embeds and then scores the same history, and the
   * next interaction's history is the same events (the same objects) plus the new one, whose known events
   * are then the previous ones plus the new one's (no lookup per stored event on every interaction).
   */
  private knownFor: {
    history: ModelEvent[];
    length: number;
    first: ModelEvent | undefined;
    last: ModelEvent | undefined;
    known: Known[];
  } | null = null;

  private known(history: ModelEvent[]): Known[] {
    const k = this.knownFor;
    if (k?.history === history && k.length === history.length) return k.known;
    const grew =
      !!k && k.length > 0 && history.length >= k.length && history[0] === k.first && history[k.length - 1] === k.last;
    const out: Known[] = grew ? k.known.slice() : [];
    for (let i = grew ? k.length : 0; i < history.length; i++) {
      const e = history[i];
      const row = e.itemId !== undefined ? this.rowOf.get(e.itemId) : undefined;
      if (row) out.push({ row, type: readType(this.cfg, typeCode(e.type)), ts: e.ts / 1000 });
    }
    this.knownFor = {
      history,
      length: history.length,
      first: history[0],
      last: history[history.length - 1],
      known: out,
    };
    return out;
  }

  /**
   * The user vector for a history (oldest first). Incremental when the history extends the one embedded
   * last within the same window; a full recompute otherwise, or always with `full: true`.
   */
  async embed(history: ModelEvent[], full = false): Promise<Embedding> {
    if (this.disposed) throw new ShelfwiseError('disposed', 'the recommender was disposed');
    const { start, win, seq } = this.window(history);
    if (win.length === 0) {
      this.reset();
      return { user: new Float32Array(this.cfg.d), attention: new Float32Array(0), rows: [], incremental: false };
    }
    const s = this.state;
    // The same window as last time (another grid, a panel, a second rank() call): the same embedding.
    if (
      !full &&
      s?.last &&
      s.start === start &&
      s.window.length === win.length &&
      s.window.every((k, i) => same(k, win[i]))
    )
      return { ...s.last, incremental: true };
    const prefixOf = (c: { start: number; window: Known[] } | null) =>
      !!c && c.start === start && c.window.length < win.length && c.window.every((k, i) => same(k, win[i]));
    const fromStandby = !full && !prefixOf(s) && prefixOf(this.standby);
    if (fromStandby) {
      this.reset();
      this.state = this.standby;
      this.standby = null;
    }
    const canStep = !full && prefixOf(this.state);
    let user: tf.Tensor, probs: tf.Tensor;
    if (canStep) {
      const s = this.state!;
      let cache = s.cache;
      let u: tf.Tensor | null = null,
        p: tf.Tensor | null = null;
      const gaps = gapBuckets(seq, this.cfg.numTimeBuckets);
      for (let i = s.window.length; i < win.length; i++) {
        const r = tf.tidy(
          () => step(this.params, this.cfg, cache, win[i].row, win[i].type, gaps[i]) as unknown as tf.TensorContainer,
        ) as unknown as ReturnType<typeof step>;
        disposeCache(cache);
        u?.dispose();
        p?.dispose();
        cache = r.cache;
        u = r.user;
        p = r.probs;
      }
      this.state = { start, window: win, cache };
      user = u!;
      probs = p!;
    } else {
      this.reset();
      const r = tf.tidy(() => {
        const f = forward(this.params, this.cfg, packBatch([seq], win.length, this.cfg.numTimeBuckets));
        const n = win.length;
        return {
          user: tf.slice(f.hidden, [n - 1, 0], [1, -1]),
          probs: tf.reshape(tf.slice(f.probs, [0, n - 1, 0], [1, 1, n]), [n]),
          k: f.keys,
          v: f.values,
        };
      });
      this.state = { start, window: win, cache: { k: r.k, v: r.v, length: win.length } };
      user = r.user;
      probs = r.probs;
    }
    // The mixture normalizes over the whole catalog: one matmul on the backend, read back with the user vector.
    const itemT = this.itemT;
    const logits = itemT ? tf.tidy(() => tf.reshape(tf.matMul(user as tf.Tensor2D, itemT), [-1])) : null;
    const [uv, pv, zv] = await Promise.all([user.data(), probs.data(), logits?.data()]);
    if (zv) this.weighSample(zv as Float32Array);
    user.dispose();
    probs.dispose();
    logits?.dispose();
    const out: Embedding = {
      user: uv as Float32Array,
      attention: pv as Float32Array,
      rows: win.map((k) => k.row),
      incremental: !!canStep,
      ...(zv ? { logits: zv as Float32Array } : {}),
    };
    if (this.state) this.state.last = out;
    this.prepareStandby(history);
    return out;
  }

  /**
   * When one more event would move the window's start, computes (in a later task, after this ranking has
   * been shown) the keys and values of the new window's events known so far. The result is the same as the
   * full recompute it replaces (the incremental path is exact); it only moves that work off the interaction.
   */
  private prepareStandby(history: ModelEvent[]): void {
    const all = this.known(history);
    const next = this.windowStart(all.length + 1);
    // Nothing to prepare (the next event keeps the window's start): a standby for another history goes.
    if (next === this.windowStart(all.length) || next >= all.length) {
      this.dropStandby();
      return;
    }
    if (
      this.standby?.start === next &&
      this.standby.window.length === all.length - next &&
      this.standby.window.every((k, i) => same(k, all[next + i]))
    )
      return;
    this.dropStandby();
    this.standbyTimer = setTimeout(() => {
      this.standbyTimer = null;
      if (this.disposed) return;
      const win = all.slice(next);
      const r = tf.tidy(() => {
        const f = forward(
          this.params,
          this.cfg,
          packBatch([asSeq(win, all[next - 1].ts)], win.length, this.cfg.numTimeBuckets),
        );
        return { k: f.keys, v: f.values };
      });
      this.standby = { start: next, window: win, cache: { k: r.k, v: r.v, length: win.length } };
    }, 0);
  }

  private dropStandby(): void {
    if (this.standbyTimer !== null) clearTimeout(this.standbyTimer);
    this.standbyTimer = null;
    if (this.standby) disposeCache(this.standby.cache);
    this.standby = null;
  }

  get bias(): Float32Array | null {
    return this.userBias;
  }

  /** Sets (or with null removes) the shopper's adaptation. It must be d finite numbers. */
  setBias(b: ArrayLike<number> | null): void {
    if (b === null) {
      this.userBias = null;
      return;
    }
    if (b.length !== this.cfg.d || !Array.prototype.every.call(b, (x: number) => Number.isFinite(x))) {
      throw new ShelfwiseError('finetune_invalid', `an adaptation must be ${this.cfg.d} finite numbers`);
    }
    this.userBias = Float32Array.from(b);
  }

  /**
   * The encoder's hidden states at every position of the window the model reads for this history
   * (full recompute, [n, d] row-major), with the window's embedding rows: what fine-tuning fits on.
   */
  async hiddenStates(history: ModelEvent[]): Promise<{ hidden: Float32Array; rows: number[] }> {
    if (this.disposed) throw new ShelfwiseError('disposed', 'the recommender was disposed');
    const { win, seq } = this.window(history);
    if (win.length === 0) return { hidden: new Float32Array(0), rows: [] };
    const h = tf.tidy(
      () => forward(this.params, this.cfg, packBatch([seq], win.length, this.cfg.numTimeBuckets)).hidden,
    );
    const hidden = (await h.data()) as Float32Array;
    h.dispose();
    return { hidden, rows: win.map((k) => k.row) };
  }

  /**
   * Starts fetching the visit part's companions (once); resolves to null when the model has none or the
   * file fails (the model then ranks alone: a clear warning, nothing else lost).
   */
  prefetchVisit(): Promise<VisitPart | null> {
    const get = this.visitFile;
    return (this.visitLoad ??= get
      ? get().then(
          (p) => (this.visitPart = p),
          (e) => {
            console.warn(
              `shelfwise: the visit part did not load, ranking with the model alone: ${(e as Error).message}`,
            );
            return null;
          },
        )
      : Promise.resolve(null));
  }

  /**
   * Vectors of products the model has no row for, from their content (content.ts), each with the tokens it
   * used; null for a product without a known token, and for all when the model has no content part or its
   * file fails (a clear warning; those products then sit at `unknownPrior`, as before).
   */
  async contentVectors(contents: Array<Content | undefined>): Promise<Array<Float32Array | null>> {
    const get = this.contentFile;
    const p = await (this.contentLoad ??= get
      ? get().catch((e) => {
          console.warn(
            `shelfwise: the content part did not load, new products keep their place: ${(e as Error).message}`,
          );
          return null;
        })
      : Promise.resolve(null));
    return contents.map((c) => (p && c ? (p.mod.embedContent(p.t, c)?.v ?? null) : null));
  }

  /** Whether the model ranks products it has no row for from their content. */
  get hasContent(): boolean {
    return !!this.contentFile;
  }

  /** The visit part's scores for this history now (its session under way), or null: no session, or no visit part. */
  async visitFor(history: ModelEvent[]): Promise<VisitScores | null> {
    const meta = this.visitMeta;
    if (!meta) return null;
    const all = this.known(history);
    // No session under way (the last event VISIT_GAP or more ago): the model alone.
    const now = Date.now() / 1000;
    if (!all.length || now - all[all.length - 1].ts >= VISIT_GAP) return null;
    const p = await this.prefetchVisit();
    if (p && meta.sharded && this.items) await this.sessionCompanions(all, now, p);
    return (
      p &&
      p.mod.visitScores(
        p.c,
        meta,
        all.map((k) => k.row),
        all.map((k) => k.ts),
        now,
        this.V,
      )
    );
  }

  /**
   * A sharded directory's companions for the session under way: fetches (once per shard) the lists of the
   * session's products and sets the visit part's companions over the rows the page holds (a companion the
   * page does not hold still counts in the session's total: p_visit is the same as offline).
   */
  private async sessionCompanions(all: Known[], now: number, p: VisitPart): Promise<void> {
    const it = this.items!,
      n = all.length;
    const a = Math.max(
      p.mod.sessionStart(
        all.map((k) => k.ts),
        n,
        now,
      ),
      n - p.mod.VISIT_EVENTS,
    );
    const need = [...new Set(all.slice(a).map((k) => k.row))].filter((r) => !it.lists.has(r));
    await Promise.all(
      need.map(async (r) => {
        const [sk, k] = itemKeys(this.vocab.ids[r - 1]);
        const g = await this.companionShard(sk);
        if (!g) return;
        const i = g.index.get(k);
        const from = i === undefined ? 0 : g.s.start[i],
          to = i === undefined ? 0 : g.s.start[i + 1];
        const keys: string[] = [];
        for (let q = from; q < to; q++) keys.push(`${g.s.shardKeys[q]}:${g.s.companionKeys[q]}`);
        it.lists.set(r, { keys, w: g.s.w.slice(from, to) });
      }),
    );
    const V = this.V;
    if (!it.built || it.built.V !== V || it.built.lists !== it.lists.size) {
      const start = new Uint32Array(V + 1);
      for (let r = 1; r < V; r++) start[r + 1] = start[r] + (it.lists.get(r)?.w.length ?? 0);
      const ids = new Uint32Array(start[V]),
        w = new Float32Array(start[V]);
      for (const [r, l] of it.lists)
        if (r < V)
          l.keys.forEach((key, q) => {
            ids[start[r] + q] = it.keyRow.get(key) ?? 0; // row 0: a companion not on this page (it still counts in the total)
            w[start[r] + q] = l.w[q];
          });
      it.built = { V, lists: it.lists.size, c: { start, ids, w } };
    }
    p.c = it.built.c;
  }

  /** The companions shard that holds the list of a product of shard key `sk` (itemKeys), fetched once. */
  private companionShard(sk: number) {
    const it = this.items!;
    return shardOnce(
      it.companionShards,
      shardFile(this.visitMeta!.path, sk % it.meta.shards),
      it.file,
      decodeCompanionShard,
      { what: 'a companions shard', then: 'the visit part skips it', warned: it.warned },
    );
  }

  /**
   * A product the shopper may click next (the pointer or focus is on it): a sharded directory fetches its
   * companions now, so the click's ranking does not wait for them.
   */
  prefetchCompanions(id: string): void {
    if (!this.items || !this.visitMeta?.sharded) return;
    void this.prefetchVisit();
    void this.companionShard(itemKeys(id)[0]);
  }

  /** The session item (an item id) whose companions give `row` its visit probability, well above `row`'s base rate (visitDriver). */
  visitReason(v: VisitScores, row: number): string | null {
    const p = this.visitPart;
    // Base rates need every product's list: a sharded directory's page holds the session's only.
    const base = p && !this.visitMeta?.sharded ? (p.base ??= p.mod.baseRates(p.c)) : undefined;
    const r = p ? p.mod.visitDriver(p.c, v, row, base) : 0;
    return r > 0 ? this.vocab.ids[r - 1] : null;
  }

  /**
   * Scores of embedding rows for this shopper. A plain sequence model: the dot product with the user vector
   * (plus the shopper's adaptation, if any). With the return part: the log probability of the
   * return/discover mixture over the whole history (src/model/mixture.ts), with each row's source
   * ('return' where the shopper's own history gives it more probability than the catalog does) and the gate.
   */
  scoreFor(
    emb: Embedding,
    history: ModelEvent[],
    rows: ArrayLike<number>,
    visit: VisitScores | null = null,
  ): {
    scores: Float32Array;
    source: Array<'return' | 'discover'>;
    gate: number | null;
    byVisit: Uint8Array;
    /** The score, on the same scale, of a product known by a vector from its content (contentVectors). */
    cold: (v: Float32Array) => number;
  } {
    const w = this.returnW,
      n = rows.length,
      byVisit = new Uint8Array(n),
      vm = this.visitMeta,
      vp = this.visitPart;
    const dot = (u: Float32Array, v: Float32Array) => {
      let s = 0;
      for (let j = 0; j < v.length; j++) s += u[j] * v[j];
      return s;
    };
    if (!w && !(visit && vm && vp)) {
      const user = this.biased(emb.user);
      return {
        scores: this.score(emb.user, rows),
        source: Array.from(rows, () => 'discover' as const),
        gate: null,
        byVisit,
        cold: (v) => dot(user, v),
      };
    }
    const all = this.known(history);
    const user = this.biased(emb.user);
    const z = emb.logits?.length === this.V ? this.withBias(emb.logits) : this.weighSample(this.catalogLogits(user));
    const cands = w && returnCandidates(asSeq(all), this.cfg.returnItems!);
    const m = w && cands ? mixture(z, user, cands, w) : null;
    const ret = new Set<number>(); // rows the return part brought more mass to than the catalog (at most returnItems)
    if (m && cands)
      for (let k = 0; k < cands.rows.length; k++) if (m.fromReturn[k] > m.fromCatalog[k]) ret.add(cands.rows[k]);
    // The model's log probability of each candidate (a plain model's logits, normalized over the catalog).
    const mix = visit && vm && vp;
    const lse = mix && !m ? logSumExp(z) : 0;
    const scores = new Float32Array(n),
      source = new Array<'return' | 'discover'>(n);
    const l = mix ? vp.mod.lambdaOf(visit, vm) : 0;
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (mix && r > 0) {
        const model = m ? m.scores[r] : z[r] - lse;
        scores[i] = vp.mod.mixOne(model, visit, r, l);
        // A row the session's companions give more probability than the model does: the visit drove it.
        byVisit[i] = (l * visit.p[r]) / visit.total > (1 - l) * Math.exp(model) ? 1 : 0;
      } else scores[i] = m ? m.scores[r] : z[r];
      source[i] = ret.has(r) && !byVisit[i] ? 'return' : 'discover';
    }
    // A product known by content only: the catalog's share of it (none from the return part or the visit's
    // companions, which know only the model's rows).
    const shift = m ? m.shift : -lse;
    const cold = (v: Float32Array) => {
      const model = dot(user, v) + shift;
      return mix ? Math.log((1 - l) * Math.exp(model) + 1e-30) : model;
    };
    return { scores, source, gate: m ? m.gate : null, byVisit, cold };
  }

  /** Catalog logits of the unbiased user vector, plus the adaptation's part (bias · each row, computed once per bias). */
  private withBias(z: Float32Array): Float32Array {
    const b = this.userBias;
    if (!b) return z;
    if (this.biasLogits?.bias !== b) this.biasLogits = { bias: b, z: this.catalogLogits(b) };
    const bz = this.biasLogits.z,
      out = new Float32Array(z.length);
    for (let i = 0; i < z.length; i++) out[i] = z[i] + bz[i];
    return out;
  }

  private biased(userVec: Float32Array): Float32Array {
    const b = this.userBias;
    return b ? userVec.map((v, j) => v + b[j]) : userVec;
  }

  /** user · e for every row of the item table (row 0 included), four partial sums at a time. */
  private catalogLogits(user: Float32Array): Float32Array {
    const d = this.cfg.d,
      E = this.itemEmb,
      V = this.V,
      z = new Float32Array(V);
    const d4 = d - (d % 4);
    for (let i = 0, o = 0; i < V; i++, o += d) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        j = 0;
      for (; j < d4; j += 4) {
        s0 += user[j] * E[o + j];
        s1 += user[j + 1] * E[o + j + 1];
        s2 += user[j + 2] * E[o + j + 2];
        s3 += user[j + 3] * E[o + j + 3];
      }
      for (; j < d; j++) s0 += user[j] * E[o + j];
      z[i] = s0 + s1 + s2 + s3;
    }
    return z;
  }

  /** Dot-product scores of embedding rows against a user vector (plus the shopper's adaptation, if any). */
  score(userVec: Float32Array, rows: ArrayLike<number>): Float32Array {
    const d = this.cfg.d,
      E = this.itemEmb,
      out = new Float32Array(rows.length);
    const user = this.biased(userVec);
    for (let i = 0; i < rows.length; i++) {
      const off = rows[i] * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += user[j] * E[off + j];
      out[i] = s;
    }
    return out;
  }

  /** The history row that contributed most to a candidate (its row, or its vector from content): argmax over h of attention_h · <e_h, e_c>. */
  reason(emb: Embedding, row: number | Float32Array): number {
    const d = this.cfg.d,
      E = this.itemEmb;
    const c = typeof row === 'number' ? E.subarray(row * d, row * d + d) : row;
    let best = -1,
      bestV = -Infinity;
    for (let h = 0; h < emb.rows.length; h++) {
      let s = 0;
      const a = emb.rows[h] * d;
      for (let j = 0; j < d; j++) s += E[a + j] * c[j];
      const v = emb.attention[h] * s;
      if (v > bestV) {
        bestV = v;
        best = emb.rows[h];
      }
    }
    return best;
  }

  private reset(): void {
    if (this.state) disposeCache(this.state.cache);
    this.state = null;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.reset();
    this.dropStandby();
    for (const t of Object.values(this.params)) t.dispose();
    this.itemT?.dispose();
  }
}

/**
 * A shard file of a sharded directory (its products' codes, or their companions), fetched and indexed by
 * product key once; a file that fails is one console warning per kind, and asked for again next time.
 */
function shardOnce<S extends { keys: Uint32Array }>(
  cache: Map<string, Promise<{ s: S; index: Map<number, number> } | null>>,
  path: string,
  file: (rel: string) => Promise<ArrayBuffer>,
  decode: (b: ArrayBuffer) => S,
  warn: { what: string; then: string; warned: Set<string> },
): Promise<{ s: S; index: Map<number, number> } | null> {
  let p = cache.get(path);
  if (!p) {
    p = file(path)
      .then((b) => {
        const s = decode(b);
        return { s, index: new Map(Array.from(s.keys, (k, i) => [k, i])) };
      })
      .catch((e) => {
        cache.delete(path);
        if (!warn.warned.has(warn.what))
          console.warn(`shelfwise: ${warn.what} did not load, ${warn.then}: ${(e as Error).message}`);
        warn.warned.add(warn.what);
        return null;
      });
    cache.set(path, p);
  }
  return p;
}

/**
 * The page's first item table from a sharded directory's head: row 0 padding, the popular products, then the
 * sample rows. Sets `item_emb` (and the return part's `ret_item`) in `params`, and drops the codebooks'
 * tensor (they stay on the JS side, to decode the shards' codes).
 */
function headTable(
  meta: ItemsMeta,
  head: Head,
  params: Params,
  cfg: ModelConfig,
  file: (rel: string) => Promise<ArrayBuffer>,
): ItemDirectory {
  const d = cfg.d,
    m = meta.m,
    p = head.keys.length,
    V = 1 + p + head.samples;
  const codebooks = params.item_pq.dataSync() as Float32Array;
  params.item_pq.dispose();
  delete params.item_pq;
  const E = new Float32Array(V * d);
  for (let r = 1; r < V; r++) decodeCode(codebooks, m, d, head.codes, (r - 1) * m, E, r * d);
  params.item_emb = tf.tensor2d(E, [V, d]);
  if (hasReturn(cfg)) {
    const ret = new Float32Array(V);
    if (head.ret) for (let r = 1; r < V; r++) ret[r] = head.ret[r - 1] * (meta.retScale ?? 0) + (meta.retMin ?? 0);
    params.ret_item = tf.tensor2d(ret, [V, 1]);
  }
  const index = new Map<string, number>();
  for (let i = 0; i < p; i++) index.set(`${head.shardKeys[i]}:${head.keys[i]}`, i + 1);
  return {
    meta,
    codebooks,
    keyRow: index,
    warned: new Set(),
    companionShards: new Map(),
    lists: new Map(),
    built: null,
    sample: { from: 1 + p, count: head.samples, logWeight: head.logWeight },
    absent: new Set(),
    shards: new Map(),
    file,
  };
}

/** Known events as the sequence the encoder and the history features read (prevTs: the event before them). */
const asSeq = (ks: Known[], prevTs?: number): RowSeq => ({
  items: ks.map((k) => k.row),
  types: ks.map((k) => k.type),
  ts: ks.map((k) => k.ts),
  prevTs,
});

/** The same event as the model reads it. */
const same = (a: Known, b: Known) => a.row === b.row && a.type === b.type && a.ts === b.ts;

function disposeCache(c: KVCache): void {
  for (const t of [...c.k, ...c.v]) t.dispose();
}

export { tf };
