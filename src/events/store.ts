import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { asShelfwiseError, ShelfwiseError, type ShelfwiseEvent } from './types.js';

const DB_NAME = 'shelfwise';
const DB_VERSION = 1;

interface Schema extends DBSchema {
  events: { key: number; value: ShelfwiseEvent & { seq?: number } };
  /** Small named records: fine-tuned adapters keyed by model version, settings. */
  kv: { key: string; value: unknown };
}

export interface EventStore {
  readonly kind: 'indexeddb' | 'memory';
  add(e: ShelfwiseEvent): Promise<void>;
  /** The most recent `n` events, oldest first. */
  recent(n: number): Promise<ShelfwiseEvent[]>;
  count(): Promise<number>;
  getKV<T>(key: string): Promise<T | undefined>;
  setKV(key: string, value: unknown): Promise<void>;
  deleteKV(key: string): Promise<void>;
  /** Deletes everything this SDK stored. */
  clear(): Promise<void>;
  close(): void;
}

export class MemoryStore implements EventStore {
  readonly kind = 'memory' as const;
  private events: ShelfwiseEvent[] = [];
  private kv = new Map<string, unknown>();
  constructor(private cap = 1000) {}
  async add(e: ShelfwiseEvent) {
    this.events.push(e);
    if (this.events.length > this.cap) this.events.splice(0, this.events.length - this.cap);
  }
  async recent(n: number) {
    return this.events.slice(-n);
  }
  async count() {
    return this.events.length;
  }
  async getKV<T>(k: string) {
    return this.kv.get(k) as T | undefined;
  }
  async setKV(k: string, v: unknown) {
    this.kv.set(k, v);
  }
  async deleteKV(k: string) {
    this.kv.delete(k);
  }
  async clear() {
    this.events = [];
    this.kv.clear();
  }
  close() {}
}

function isQuota(e: unknown): boolean {
  const n = (e as { name?: string })?.name;
  return n === 'QuotaExceededError' || n === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** A write that failed for a reason other than the quota. */
const storeFailed = (err: unknown) =>
  new ShelfwiseError('storage_failed', `could not store the event: ${String((err as Error)?.message).slice(0, 200)}`, {
    cause: err,
  });

/** Deletes the oldest events of a readwrite transaction's store beyond `keep`. */
async function dropOldest(tx: IDBPTransaction<Schema, ['events'], 'readwrite'>, keep: number): Promise<void> {
  let excess = (await tx.store.count()) - keep;
  let cursor = excess > 0 ? await tx.store.openCursor() : null;
  while (cursor && excess > 0) {
    await cursor.delete();
    excess--;
    cursor = await cursor.continue();
  }
}

export class IdbStore implements EventStore {
  readonly kind = 'indexeddb' as const;
  /** Set when another tab's upgrade or deletion closed our connection: the next operation reopens it. */
  private closed = false;
  private constructor(
    private db: IDBPDatabase<Schema>,
    private readonly cap: number,
  ) {}

  private static connect(onBlocking: () => void, timeoutMs: number): Promise<IDBPDatabase<Schema>> {
    if (typeof indexedDB === 'undefined' || !indexedDB)
      return Promise.reject(new ShelfwiseError('storage_unavailable', 'IndexedDB is not available'));
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      openDB<Schema>(DB_NAME, DB_VERSION, {
        upgrade(db, oldVersion) {
          // Versioned upgrades: each step brings a database from version n-1 to n.
          if (oldVersion < 1) {
            db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true });
            db.createObjectStore('kv');
          }
        },
        // A newer tab wants to upgrade or delete: let it, and reopen on our next operation.
        blocking: onBlocking,
        terminated: onBlocking,
      }),
      new Promise<never>((_, rej) => {
        timer = setTimeout(
          () => rej(new ShelfwiseError('storage_unavailable', 'IndexedDB open timed out (blocked)')),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  static async open(cap = 1000, timeoutMs = 3000): Promise<IdbStore> {
    let store: IdbStore | null = null;
    const db = await IdbStore.connect(() => store?.release(), timeoutMs);
    return (store = new IdbStore(db, cap));
  }

  private release(): void {
    this.closed = true;
    this.db.close();
  }

  /** The open connection, reopened after another tab closed it. */
  private async conn(): Promise<IDBPDatabase<Schema>> {
    if (this.closed) {
      this.db = await IdbStore.connect(() => this.release(), 3000);
      this.closed = false;
    }
    return this.db;
  }

  async add(e: ShelfwiseEvent): Promise<void> {
    const db = await this.conn();
    try {
      // One transaction: add, then drop the oldest beyond the cap.
      const tx = db.transaction('events', 'readwrite');
      await tx.store.add({ ...e });
      await dropOldest(tx, this.cap);
      await tx.done;
    } catch (err) {
      if (!isQuota(err)) throw storeFailed(err);
      await this.addUnderQuota(db, e);
    }
  }

  /**
   * The origin's storage is full: drop the oldest events, twice as many each try (1, 2, 4, ...), until the
   * new one fits; what is dropped is only what was needed. Fails with `storage_full` when nothing is left.
   */
  private async addUnderQuota(db: IDBPDatabase<Schema>, e: ShelfwiseEvent): Promise<void> {
    for (let drop = 1; ; drop *= 2) {
      const n = await db.count('events');
      if (n === 0) break;
      await this.trim(db, Math.max(0, n - drop));
      try {
        await db.add('events', { ...e });
        return;
      } catch (err) {
        if (!isQuota(err)) throw storeFailed(err);
      }
    }
    throw new ShelfwiseError(
      'storage_full',
      "the browser's storage for this site is full (quota exceeded), even with no events kept: events are kept in memory for this page",
    );
  }

  /** Deletes the oldest events beyond `keep`. */
  private async trim(db: IDBPDatabase<Schema>, keep: number): Promise<void> {
    const tx = db.transaction('events', 'readwrite');
    await dropOldest(tx, keep);
    await tx.done;
  }

  async recent(n: number): Promise<ShelfwiseEvent[]> {
    const out: ShelfwiseEvent[] = [];
    let cursor = await (await this.conn()).transaction('events').store.openCursor(null, 'prev');
    while (cursor && out.length < n) {
      const { seq: _seq, ...e } = cursor.value;
      out.push(e);
      cursor = await cursor.continue();
    }
    return out.reverse();
  }

  async count() {
    return (await this.conn()).count('events');
  }
  async getKV<T>(k: string) {
    return (await (await this.conn()).get('kv', k)) as T | undefined;
  }
  async setKV(k: string, v: unknown) {
    await (await this.conn()).put('kv', v, k);
  }
  async deleteKV(k: string) {
    await (await this.conn()).delete('kv', k);
  }
  /**
   * Erases every event and record in one transaction, in place: no database deletion, so it never waits
   * for other tabs to close theirs (no `blocked`), and their connections stay open and keep storing.
   */
  async clear(): Promise<void> {
    const tx = (await this.conn()).transaction(['events', 'kv'], 'readwrite');
    await Promise.all([tx.objectStore('events').clear(), tx.objectStore('kv').clear(), tx.done]);
  }
  close() {
    this.closed = false;
    this.db.close();
  }
}

/**
 * The IndexedDB store, or the in-memory store (same behavior for this page) when IndexedDB is unavailable,
 * blocked or failing; `onFallback` gets the reason. With `persist: false` (no consent) memory only.
 */
export async function openStore(cap: number, persist: boolean, onFallback: (e: unknown) => void): Promise<EventStore> {
  if (!persist) return new MemoryStore(cap);
  try {
    return await IdbStore.open(cap);
  } catch (e) {
    onFallback(
      asShelfwiseError(e, 'storage_unavailable', 'IndexedDB unavailable, events kept in memory for this page: '),
    );
    return new MemoryStore(cap);
  }
}

/**
 * Events on their way into IndexedDB, written synchronously to localStorage first: a click that opens a
 * product page at once can unload the page before IndexedDB commits, and that click is the event that
 * matters most. An entry leaves the journal once stored; entries older than `settleMs` that are still
 * there (their page went away first) are stored by the next page that opens the store. Best effort: where
 * localStorage is unavailable or full, nothing is journaled.
 */
export class Journal {
  private static readonly KEY = 'shelfwise:journal';
  private seq = 0;
  private readonly tab = Math.random().toString(36).slice(2, 10);

  private read(): Array<{ id: string; at: number; e: ShelfwiseEvent }> {
    try {
      const v = JSON.parse(localStorage.getItem(Journal.KEY) ?? '[]') as unknown;
      return Array.isArray(v) ? (v as Array<{ id: string; at: number; e: ShelfwiseEvent }>) : [];
    } catch {
      return [];
    }
  }
  private write(list: Array<{ id: string; at: number; e: ShelfwiseEvent }>): void {
    try {
      if (list.length) localStorage.setItem(Journal.KEY, JSON.stringify(list.slice(-200)));
      else localStorage.removeItem(Journal.KEY);
    } catch {
      /* unavailable or full: the IndexedDB write goes on without a journal */
    }
  }
  /** Journals events now (synchronously); returns their ids. */
  append(events: ShelfwiseEvent[]): string[] {
    const now = Date.now();
    const add = events.map((e) => ({ id: `${this.tab}.${++this.seq}`, at: now, e }));
    this.write([...this.read(), ...add]);
    return add.map((a) => a.id);
  }
  /** Drops entries once their events are stored. */
  remove(ids: string[]): void {
    const gone = new Set(ids);
    const list = this.read();
    const keep = list.filter((x) => !gone.has(x.id));
    if (keep.length !== list.length) this.write(keep);
  }
  /** Takes the entries older than `settleMs` (whose page left before storing them). */
  takeStale(settleMs = 2000): ShelfwiseEvent[] {
    const list = this.read();
    const cut = Date.now() - settleMs;
    const stale = list.filter((x) => x.at <= cut);
    if (stale.length) this.write(list.filter((x) => x.at > cut));
    return stale.map((x) => x.e).filter((e) => e && typeof e === 'object' && typeof e.type === 'string');
  }
  clear(): void {
    this.write([]);
  }
}

/**
 * Erases what an earlier page stored in IndexedDB when this page runs without storage (consent
 * withdrawn): forget() must erase it too. Opens the database only where it exists.
 */
export async function eraseStored(): Promise<void> {
  new Journal().clear();
  if (typeof indexedDB === 'undefined' || !indexedDB) return;
  const dbs = await indexedDB.databases?.().catch(() => null);
  if (dbs && !dbs.some((d) => d.name === DB_NAME)) return;
  const store = await IdbStore.open(1);
  try {
    await store.clear();
  } finally {
    store.close();
  }
}
