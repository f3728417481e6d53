import { openDB, deleteDB, type DBSchema, type IDBPDatabase } from 'idb';
import { asShelfwiseError, ShelfwiseError, type ShelfwiseEvent } from './types.js';

export const DB_NAME = 'shelfwise';
export const DB_VERSION = 1;

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
  async add(e: ShelfwiseEvent) { this.events.push(e); if (this.events.length > this.cap) this.events.splice(0, this.events.length - this.cap); }
  async recent(n: number) { return this.events.slice(-n); }
  async count() { return this.events.length; }
  async getKV<T>(k: string) { return this.kv.get(k) as T | undefined; }
  async setKV(k: string, v: unknown) { this.kv.set(k, v); }
  async deleteKV(k: string) { this.kv.delete(k); }
  async clear() { this.events = []; this.kv.clear(); }
  close() {}
}

function isQuota(e: unknown): boolean {
  const n = (e as { name?: string })?.name;
  return n === 'QuotaExceededError' || n === 'NS_ERROR_DOM_QUOTA_REACHED';
}

export class IdbStore implements EventStore {
  readonly kind = 'indexeddb' as const;
  private constructor(private db: IDBPDatabase<Schema>, private cap: number) {}

  static async open(cap = 1000, timeoutMs = 3000): Promise<IdbStore> {
    if (typeof indexedDB === 'undefined' || !indexedDB) throw new ShelfwiseError('storage_unavailable', 'IndexedDB is not available');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const db = await Promise.race([
      openDB<Schema>(DB_NAME, DB_VERSION, {
        upgrade(db, oldVersion) {
          // Versioned upgrades: each step brings a database from version n-1 to n.
          if (oldVersion < 1) {
            db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true });
            db.createObjectStore('kv');
          }
        },
        blocking() { /* a newer tab wants to upgrade: let it */ db?.close(); },
      }),
      new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new ShelfwiseError('storage_unavailable', 'IndexedDB open timed out (blocked)')), timeoutMs); }),
    ]).finally(() => clearTimeout(timer));
    return new IdbStore(db, cap);
  }

  async add(e: ShelfwiseEvent): Promise<void> {
    try {
      // One transaction: add, then drop the oldest beyond the cap.
      const tx = this.db.transaction('events', 'readwrite');
      await tx.store.add({ ...e });
      let excess = (await tx.store.count()) - this.cap;
      if (excess > 0) {
        let cursor = await tx.store.openCursor();
        while (cursor && excess > 0) { await cursor.delete(); excess--; cursor = await cursor.continue(); }
      }
      await tx.done;
    } catch (err) {
      if (!isQuota(err)) throw new ShelfwiseError('storage_failed', `could not store the event: ${(err as Error)?.message}`, { cause: err });
      // Quota exceeded: trim the oldest quarter of the events (nothing else) and retry once.
      const n = await this.db.count('events');
      await this.trim(Math.floor(n * 0.75));
      await this.db.add('events', { ...e });
    }
  }

  /** Deletes the oldest events beyond `keep`. */
  private async trim(keep: number): Promise<void> {
    const tx = this.db.transaction('events', 'readwrite');
    let excess = (await tx.store.count()) - keep;
    if (excess > 0) {
      let cursor = await tx.store.openCursor();
      while (cursor && excess > 0) { await cursor.delete(); excess--; cursor = await cursor.continue(); }
    }
    await tx.done;
  }

  async recent(n: number): Promise<ShelfwiseEvent[]> {
    const out: ShelfwiseEvent[] = [];
    let cursor = await this.db.transaction('events').store.openCursor(null, 'prev');
    while (cursor && out.length < n) {
      const { seq: _seq, ...e } = cursor.value;
      out.push(e);
      cursor = await cursor.continue();
    }
    return out.reverse();
  }

  count() { return this.db.count('events'); }
  async getKV<T>(k: string) { return (await this.db.get('kv', k)) as T | undefined; }
  async setKV(k: string, v: unknown) { await this.db.put('kv', v, k); }
  async deleteKV(k: string) { await this.db.delete('kv', k); }
  async clear(): Promise<void> {
    this.db.close();
    await deleteDB(DB_NAME);
    const fresh = await IdbStore.open(this.cap);
    this.db = fresh.db;
  }
  close() { this.db.close(); }
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
    onFallback(asShelfwiseError(e, 'storage_unavailable', 'IndexedDB unavailable, events kept in memory for this page: '));
    return new MemoryStore(cap);
  }
}
