/**
 * The shopper's history as the recommender reads and writes it: the event store (IndexedDB, or memory
 * with consent withheld or storage unavailable), an in-memory mirror of it, and the BroadcastChannel that
 * tells other tabs of this origin when it changed.
 */
import { openStore, type EventStore, type ShelfwiseEvent } from '../events/index.js';

/** What another tab said on the channel. */
export type RemoteChange = 'events' | 'forget';

export class HistoryCache {
  /**
   * Mirror of the stored history (oldest first). Another tab's writes invalidate it through the channel,
   * so each tab ranks with the other's events on its next interaction without reading up to `cap` events
   * from IndexedDB on every one.
   */
  private mirror: ShelfwiseEvent[] | null = null;
  /** Bumped by every change a read already in flight cannot have seen: such a read is done again. */
  private gen = 0;
  /** This tab's writes, in order: a read from storage waits for them, so it has every event tracked before it. */
  private writes: Promise<void> = Promise.resolve();
  /** The one store write in progress (forget() waits for it, not for the backlog). */
  private writing: Promise<void> = Promise.resolve();
  /** Bumped by clear(): writes queued before it are dropped, not written after. */
  private era = 0;
  private readonly channel: BroadcastChannel | null;

  private constructor(
    private store: EventStore,
    private readonly cap: number,
    private readonly report: (e: unknown) => void,
    onRemote: (c: RemoteChange) => void,
  ) {
    this.channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('shelfwise') : null;
    if (this.channel)
      this.channel.onmessage = (m) => {
        this.invalidate();
        onRemote(m.data === 'forget' ? 'forget' : 'events');
      };
  }

  static async open(
    cap: number,
    persist: boolean,
    report: (e: unknown) => void,
    onRemote: (c: RemoteChange) => void,
  ): Promise<HistoryCache> {
    return new HistoryCache(await openStore(cap, persist, report), cap, report, onRemote);
  }

  get kind(): EventStore['kind'] {
    return this.store.kind;
  }
  /** Named records beside the events (the stored adaptation). */
  get kv(): Pick<EventStore, 'getKV' | 'setKV' | 'deleteKV'> {
    return this.store;
  }

  /** The history, oldest first: the mirror when it is current, else a read that waits for this tab's writes. */
  async read(): Promise<ShelfwiseEvent[]> {
    for (let attempt = 0; ; attempt++) {
      // Without a BroadcastChannel another tab's writes could go unseen, so IndexedDB is read every time.
      if (this.mirror && (this.store.kind === 'memory' || this.channel)) return this.mirror;
      const gen = this.gen;
      await this.writes;
      const h = await this.store.recent(this.cap);
      if (gen === this.gen) {
        this.mirror = h;
        return h;
      }
      if (attempt >= 3) return h; // events keep arriving: use this read, keep none
    }
  }

  /**
   * Adds events: to the mirror at once (so a ranking sees them before they are stored), to storage once
   * what `first()` starts has settled (the grids reorder first), after this tab's earlier writes.
   * Resolves once stored.
   */
  async add(events: ShelfwiseEvent[], first: () => Promise<unknown> | null): Promise<void> {
    if (this.mirror) {
      this.mirror.push(...events);
      if (this.mirror.length > this.cap) this.mirror.splice(0, this.mirror.length - this.cap);
    }
    this.gen++;
    const after = first();
    const prev = this.writes,
      era = this.era;
    const written = (async () => {
      await prev;
      await after;
      for (const e of events) {
        if (era !== this.era) return; // forgotten meanwhile
        await (this.writing = this.safeAdd(e));
      }
    })();
    this.writes = written.catch(() => undefined);
    await written;
    this.channel?.postMessage('events');
  }

  /** Storage failure mid-session: switch to memory, keeping what this page already knows. */
  private async safeAdd(e: ShelfwiseEvent): Promise<void> {
    try {
      await this.store.add(e);
    } catch (err) {
      this.report(err);
      if (this.store.kind === 'indexeddb') {
        let keep: ShelfwiseEvent[] = [];
        try {
          keep = await this.store.recent(this.cap);
        } catch {
          /* unreadable */
        }
        const mem = await openStore(this.cap, false, this.report);
        for (const k of keep) await mem.add(k);
        await mem.add(e);
        this.store = mem;
      }
    }
  }

  /**
   * Erases every stored event and record. Events still queued for storage are dropped, not written after;
   * only the one write in progress is waited for (so it cannot land after the clear).
   */
  async clear(): Promise<void> {
    this.era++;
    this.invalidate();
    await this.writing.catch(() => undefined);
    try {
      await this.store.clear();
    } catch (e) {
      this.report(e);
    }
    // A read that began before the clear must not become the mirror.
    this.invalidate();
    this.channel?.postMessage('forget');
  }

  private invalidate(): void {
    this.mirror = null;
    this.gen++;
  }

  close(): void {
    this.channel?.close();
    this.store.close();
  }
}
