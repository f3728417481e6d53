/**
 * The shopper's history as the recommender reads and writes it: the event store (IndexedDB, or memory
 * with consent withheld or storage unavailable), an in-memory mirror of it, and the BroadcastChannel that
 * tells other tabs of this origin when it changed.
 */
import { eraseStored, Journal, openStore, type EventStore, type ShelfwiseEvent } from '../events/index.js';

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
  private channel: BroadcastChannel | null = null;
  /** Events on their way into IndexedDB, kept synchronously where a navigation cannot lose them. */
  private readonly journal = new Journal();

  private constructor(
    private store: EventStore,
    private readonly cap: number,
    private readonly report: (e: unknown) => void,
    onRemote: (c: RemoteChange) => void,
  ) {
    const listen = () => {
      this.channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('shelfwise') : null;
      if (this.channel)
        this.channel.onmessage = (m) => {
          this.invalidate();
          onRemote(m.data === 'forget' ? 'forget' : 'events');
        };
    };
    listen();
    // A message to a page in the back/forward cache evicts it (the back button would reload): the channel
    // closes while the page is hidden, and on its return the history is read again (it may have missed some).
    if (typeof addEventListener === 'function') {
      addEventListener('pagehide', (e) => {
        if (!(e as PageTransitionEvent).persisted || this.closed) return;
        this.channel?.close();
        this.channel = null;
      });
      addEventListener('pageshow', (e) => {
        if (!(e as PageTransitionEvent).persisted || this.closed || this.channel) return;
        listen();
        this.invalidate();
        onRemote('events');
      });
    }
  }

  static async open(
    cap: number,
    persist: boolean,
    report: (e: unknown) => void,
    onRemote: (c: RemoteChange) => void,
  ): Promise<HistoryCache> {
    const cache = new HistoryCache(await openStore(cap, persist, report), cap, report, onRemote);
    if (cache.store.kind === 'indexeddb') {
      await cache.recover();
      // The page before this one may have left a moment ago: its entries are taken once they are stale.
      setTimeout(() => void cache.recover().then(() => cache.invalidate()), 2500);
    }
    return cache;
  }

  /** Stores the journaled events of pages that went away before storing them (each once). */
  private async recover(): Promise<void> {
    if (this.closed) return;
    const lost = this.journal.takeStale();
    if (!lost.length) return;
    try {
      const key = (e: ShelfwiseEvent) => `${e.type}\u0000${e.itemId ?? ''}\u0000${e.ts}`;
      const have = new Set((await this.store.recent(lost.length + 100)).map(key));
      for (const e of lost) if (!have.has(key(e))) await this.store.add(e);
    } catch (e) {
      this.report(e);
    }
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
   * Adds events: to the journal and the mirror at once (so a ranking sees them before they are stored, and
   * a page that unloads right after a click does not lose it), to storage right away, after this tab's
   * earlier writes, while what `first()` starts (the grids' reorder) runs. Resolves once stored.
   */
  async add(events: ShelfwiseEvent[], first: () => Promise<unknown> | null): Promise<void> {
    const journaled = this.store.kind === 'indexeddb' ? this.journal.append(events) : [];
    if (this.mirror) {
      this.mirror.push(...events);
      if (this.mirror.length > this.cap) this.mirror.splice(0, this.mirror.length - this.cap);
    }
    this.gen++;
    const prev = this.writes,
      era = this.era;
    const written = (async () => {
      await prev;
      for (const e of events) {
        if (era !== this.era) return; // forgotten meanwhile
        await (this.writing = this.safeAdd(e));
      }
    })();
    this.writes = written.catch(() => undefined);
    const shown = first();
    await written;
    if (journaled.length) this.journal.remove(journaled);
    this.channel?.postMessage('events');
    await shown;
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
    this.journal.clear();
    await this.writing.catch(() => undefined);
    try {
      await this.store.clear();
      // Without storage on this page (consent withdrawn), what earlier pages stored is erased as well.
      if (this.store.kind === 'memory') await eraseStored();
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

  private closed = false;
  close(): void {
    this.closed = true;
    this.channel?.close();
    this.store.close();
  }
}
