// A delegate's marks on one meeting's documents (issue #11): highlights, underlines, pen strokes,
// sticky notes and bookmarks, plus a personal note per agenda item. Read with
// `GET /api/meetings/{id}/annotations`, kept current from the meeting's feed, saved with `PUT`.
//
// Every save goes into a small IndexedDB queue BEFORE it is sent (one entry per mark, only its
// latest revision), and the queue is sent in order whenever the box is reachable: at load, on the
// `online` event, and with back-off after a failure. Closing the page offline loses nothing; a
// retry is the same id and revision, so the box never counts it twice.
//
// Two tablets of one person: every save also carries the box's revision it was edited from
// (`base_rev`). The box applies a save only over that revision, so the first of two edits made
// alongside each other is kept, and the other is answered `lost` with what the box keeps. This
// tablet then adopts the box's version and keeps its own text aside: a sticky note's text as a
// new private note beside it, a personal note's text added below the one that won. Nothing typed
// on either tablet is dropped (`keptAside` tells the reader to say so).
import { ApiError, getJson, sendJson } from './api';
import type { AnnotationEntry, AnnotationKind, AnnotationSaved, AnnotationsSeen, ItemNoteEntry, NoteSaved, Sharing } from './generated/contract';
import type { LiveEvent } from './reducers';

export type { AnnotationEntry, AnnotationKind, ItemNoteEntry, Sharing };

export type Rect = [number, number, number, number];
export type Point = [number, number];
/** What a tap on a page does: pick a mark, draw, place a note, erase. */
export type Tool = 'select' | 'pen' | 'note' | 'eraser';

/** What the reader makes; the rest (owner, device, rev) is filled in here. */
export interface MarkDraft {
  document_id: string;
  version_sha256: string;
  page: number;
  kind: AnnotationKind;
  color?: string;
  width?: number;
  rects?: Rect[];
  strokes?: Point[][];
  text?: string;
  sharing?: Sharing;
}

/** 32 hex characters from the tablet's random source: the mark's id for ever. */
export function newId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

// ---- the queue in IndexedDB -------------------------------------------------------------------

interface Queued {
  /** `a|<meeting>|<mark id>` or `n|<meeting>|<item id>`: one entry per mark, the latest wins. */
  key: string;
  meetingId: string;
  /**
   * The person the tablet was paired to when the save was made. A tablet paired to someone else
   * since then drops it: one person's notes are never sent as another's.
   */
  owner?: string | null;
  /** Send order. */
  seq: number;
  path: string;
  body: unknown;
}

const DB_NAME = 'phonghop-annotations';
const STORE = 'queue';
let dbPromise: Promise<IDBDatabase | null> | null = null;

function db(): Promise<IDBDatabase | null> {
  dbPromise ??= new Promise((resolve) => {
    try {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: 'key' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
      req.onblocked = () => resolve(null);
    } catch {
      resolve(null); // No IndexedDB (private mode on old Safari): saves go straight to the box.
    }
  });
  return dbPromise;
}

function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
  return db().then(
    (d) =>
      new Promise<T | undefined>((resolve, reject) => {
        if (!d) return resolve(undefined);
        const t = d.transaction(STORE, mode);
        const r = fn(t.objectStore(STORE));
        t.oncomplete = () => resolve(r ? r.result : undefined);
        t.onerror = () => reject(t.error ?? new Error('indexeddb'));
        t.onabort = () => reject(t.error ?? new Error('indexeddb'));
      }),
  );
}

async function queued(meetingId: string): Promise<Queued[]> {
  const all = ((await tx<Queued[]>('readonly', (s) => s.getAll() as IDBRequest<Queued[]>)) ?? []) as Queued[];
  return all.filter((q) => q.meetingId === meetingId).sort((a, b) => a.seq - b.seq);
}

let seqCounter = 0;
function nextSeq(): number {
  seqCounter = (seqCounter + 1) % 1000;
  return Date.now() * 1000 + seqCounter;
}

// ---- one meeting's marks ----------------------------------------------------------------------

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

export class Annotations {
  readonly meetingId: string;
  /** Every mark this tablet knows, erased ones included (tombstones), by id. */
  marks = $state<Record<string, AnnotationEntry>>({});
  /** My note per agenda item, by item id. */
  notes = $state<Record<string, ItemNoteEntry>>({});
  /** The names of the people whose shared marks this tablet shows. */
  names = $state<Record<string, string>>({});
  /** Saves not yet on the box. */
  pending = $state(0);
  loaded = $state(false);
  /** Counts the agenda changes seen on the feed, so an open reader reads its meeting again
   *  (a newly named presenter brings "Gửi người trình bày" without a reload). */
  agendaChanges = $state(0);
  /** The code of the last save the box refused for good (shown once in the reader). */
  refused = $state<string | null>(null);
  /** How many of my edits lost to one made alongside on my other tablet, and were kept aside. */
  keptAside = $state(0);
  /** The latest revision the box is known to keep, per queue key (`a|…` / `n|…`). */
  #boxRev = new Map<string, number>();
  /** The unsent save per queue key: its send order and the box revision it was edited from. */
  #pendingSave = new Map<string, { seq: number; base: number }>();
  #me = $state<string | null>(null);
  /** The person this tablet is paired to (the owner of new marks). Nothing is sent before it is known. */
  get me(): string | null {
    return this.#me;
  }
  set me(person: string | null) {
    this.#me = person;
    void this.flush();
  }

  #undo: { id: string; before: AnnotationEntry | null }[] = [];
  #sending = false;
  #delay = RETRY_MIN_MS;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #onOnline = (): void => {
    this.#delay = RETRY_MIN_MS;
    void this.load();
  };

  constructor(meetingId: string) {
    this.meetingId = meetingId;
  }

  /** Readers of this meeting using the store (one reader replaces another on navigation). */
  #users = 0;

  start(): void {
    this.#users += 1;
    this.#stopped = false;
    window.addEventListener('online', this.#onOnline);
    void this.load();
  }

  stop(): void {
    this.#users = Math.max(0, this.#users - 1);
    if (this.#users > 0) return;
    this.#stopped = true;
    clearTimeout(this.#retry);
    window.removeEventListener('online', this.#onOnline);
  }

  get #base(): string {
    return `/api/meetings/${encodeURIComponent(this.meetingId)}`;
  }

  /** Reads the box's marks, lays this tablet's unsent saves over them, then sends those. */
  async load(): Promise<void> {
    const local = await queued(this.meetingId).catch(() => [] as Queued[]);
    try {
      const seen = await getJson<AnnotationsSeen>(`${this.#base}/annotations`);
      const marks: Record<string, AnnotationEntry> = {};
      for (const a of seen.annotations) {
        marks[a.id] = a;
        this.#seen(`a|${this.meetingId}|${a.id}`, a.rev);
      }
      const notes: Record<string, ItemNoteEntry> = {};
      for (const n of seen.notes) {
        notes[n.item_id] = n;
        this.#seen(`n|${this.meetingId}|${n.item_id}`, n.rev);
      }
      // Keep what this tablet made meanwhile (newer revisions than the box's). Someone else's
      // mark the box no longer lists is no longer shared with me: it goes.
      for (const [id, a] of Object.entries(this.marks)) {
        const mine = a.owner_id === this.me || a.owner_id === '';
        if (marks[id] ? marks[id].rev < a.rev : mine) marks[id] = a;
      }
      for (const [id, n] of Object.entries(this.notes)) if (!notes[id] || notes[id].rev < n.rev) notes[id] = n;
      this.marks = marks;
      this.notes = notes;
      this.names = { ...this.names, ...seen.names };
    } catch {
      // Offline: what the queue holds is all we know.
    }
    for (const q of local) {
      if (q.owner && this.me && q.owner !== this.me) continue;
      this.#layOver(q);
      const body = q.body as { rev: number; base_rev?: number };
      if ((this.#pendingSave.get(q.key)?.seq ?? -1) < q.seq) this.#pendingSave.set(q.key, { seq: q.seq, base: body.base_rev ?? body.rev - 1 });
    }
    this.loaded = true;
    this.pending = local.length;
    void this.flush();
  }

  /** A queued save shown as if it were on the box already. */
  #layOver(q: Queued): void {
    const body = q.body as Record<string, unknown> & { rev: number };
    const [kind, , id] = q.key.split('|');
    if (!id) return;
    if (kind === 'a') {
      const have = this.marks[id];
      if (have && have.rev >= body.rev) return;
      this.marks[id] = { ...entryFrom(id, this.me ?? have?.owner_id ?? '', body as unknown as MarkDraft & { rev: number; deleted?: boolean }) };
    } else {
      const have = this.notes[id];
      if (have && have.rev >= body.rev) return;
      this.notes[id] = { item_id: id, owner_id: this.me ?? '', text: String(body.text ?? ''), rev: body.rev, device_id: '' };
    }
  }

  /** One event of the meeting's feed; true when it was about marks. */
  apply(ev: LiveEvent): boolean {
    const body = ev.body as Record<string, unknown>;
    if (body.meeting_id !== this.meetingId) return false;
    if (ev.kind === 'agenda.item_updated') {
      // The item's presenter may have changed: marks sent to the presenter come or go. The
      // event is the meeting's too, so the other screens still apply it.
      if (this.loaded) void this.load();
      this.agendaChanges += 1;
      return false;
    }
    if (ev.kind === 'annotation.saved') {
      if (body.hidden === true && typeof body.annotation_id === 'string') {
        delete this.marks[body.annotation_id];
      } else if (body.annotation) {
        const a = body.annotation as AnnotationEntry;
        this.#seen(`a|${this.meetingId}|${a.id}`, a.rev);
        this.#adopt(a);
        // Someone else's mark newly shared with me: read the list once to learn whose it is.
        if (this.me && a.owner_id !== this.me && !(a.owner_id in this.names)) void this.load();
      }
      return true;
    }
    if (ev.kind === 'item_note.saved' && body.note) {
      const n = body.note as ItemNoteEntry;
      this.#seen(`n|${this.meetingId}|${n.item_id}`, n.rev);
      const have = this.notes[n.item_id];
      if (!have || have.rev <= n.rev) this.notes[n.item_id] = n;
      return true;
    }
    return false;
  }

  #adopt(a: AnnotationEntry): void {
    const have = this.marks[a.id];
    if (!have || have.rev <= a.rev) this.marks[a.id] = a;
  }

  /** The box keeps revision `rev` (or a later one) under this queue key. */
  #seen(key: string, rev: number): void {
    if ((this.#boxRev.get(key) ?? 0) < rev) this.#boxRev.set(key, rev);
  }

  /**
   * The box revision an edit starts from: the one the unsent save of this mark started from
   * (the box has not seen the edits in between), else the latest the box is known to keep; and
   * never later than `seen`, the revision the person was shown when they began typing (a newer
   * one may have come over the feed meanwhile, unseen).
   */
  #baseFor(key: string, seen?: number): number {
    const base = this.#pendingSave.get(key)?.base ?? this.#boxRev.get(key) ?? 0;
    return seen === undefined ? base : Math.min(base, seen);
  }

  /**
   * My save lost to an edit made alongside it on my other tablet: show what the box keeps, and
   * keep my text aside, unless a newer save of mine is still queued (it will be answered too).
   */
  #keepAside(q: Queued, answer: AnnotationSaved | NoteSaved): void {
    const [, , id] = q.key.split('|');
    if (!id) return;
    if ('annotation' in answer) {
      const won = answer.annotation;
      this.marks[id] = won;
      const mine = q.body as MarkDraft & { rev: number; base_rev?: number; deleted?: boolean };
      const text = (mine.text ?? '').trim();
      if (mine.kind !== 'note' || mine.deleted || !text || (!won.deleted && won.text.trim() === text)) return;
      const [x1, y1, x2, y2] = mine.rects?.[0] ?? [0, 0, 0, 0];
      const { rev: _rev, base_rev: _base, deleted: _deleted, ...draft } = mine;
      // 18 points right of and below the note that won (further along if a note is there
      // already, as when the same note lost twice), so each can be tapped.
      const taken = (dx: number): boolean =>
        Object.values(this.marks).some(
          (m) => m.kind === 'note' && !m.deleted && m.document_id === mine.document_id && m.page === mine.page && Math.abs((m.rects[0]?.[0] ?? 0) - (x1 + dx)) < 900 && Math.abs((m.rects[0]?.[1] ?? 0) - (y1 - dx)) < 900,
        );
      let d = 1800;
      while (d < 18_000 && taken(d)) d += 1800;
      this.#send(newId(), { ...draft, rects: [[x1 + d, y1 - d, x2 + d, y2 - d]], sharing: 'private', rev: 1 });
    } else {
      const won = answer.note;
      this.notes[id] = won;
      const text = String((q.body as { text?: string }).text ?? '').trim();
      if (!text || won.text.includes(text)) return;
      this.setNote(id, won.text.trim() ? `${won.text.trim()}\n\n${text}` : text);
    }
    this.keptAside += 1;
  }

  // ---- edits ------------------------------------------------------------------------------------

  /** A new mark; returns its id. */
  add(draft: MarkDraft): string {
    const id = newId();
    this.#save(id, { ...draft, rev: 1 }, null);
    return id;
  }

  /**
   * A change to one of my marks (sharing, note text). `seen`: the mark's revision when the
   * person began typing the change, if it was typed.
   */
  edit(id: string, change: Partial<MarkDraft>, seen?: number): void {
    const have = this.marks[id];
    if (!have || have.deleted) return;
    this.#save(id, { ...draftOf(have), ...change, rev: have.rev + 1 }, have, seen);
  }

  erase(id: string): void {
    const have = this.marks[id];
    if (!have || have.deleted) return;
    this.#save(id, { ...draftOf(have), rev: have.rev + 1, deleted: true }, have);
  }

  /** Undoes this session's last edit: the state before it, saved as a new revision. */
  undo(): boolean {
    const last = this.#undo.pop();
    if (!last) return false;
    const now = this.marks[last.id];
    if (!now) return false;
    const rev = now.rev + 1;
    if (last.before === null) {
      this.#send(last.id, { ...draftOf(now), rev, deleted: true });
    } else {
      this.#send(last.id, { ...draftOf(last.before), rev, deleted: last.before.deleted });
    }
    return true;
  }

  get canUndo(): boolean {
    return this.#undoCount > 0;
  }
  #undoCount = $state(0);

  #save(id: string, body: MarkDraft & { rev: number; deleted?: boolean }, before: AnnotationEntry | null, seen?: number): void {
    this.#undo.push({ id, before: before ? { ...before } : null });
    if (this.#undo.length > 100) this.#undo.shift();
    this.#send(id, body, seen);
  }

  #send(id: string, body: MarkDraft & { rev: number; deleted?: boolean }, seen?: number): void {
    this.#undoCount = this.#undo.length;
    this.marks[id] = entryFrom(id, this.me ?? '', body);
    void this.#enqueue({ key: `a|${this.meetingId}|${id}`, meetingId: this.meetingId, owner: this.me, seq: nextSeq(), path: `${this.#base}/annotations/${id}`, body }, seen);
  }

  /** My note on an agenda item; `seen`: its revision when the person began typing. */
  setNote(itemId: string, text: string, seen?: number): void {
    const have = this.notes[itemId];
    if (have && have.text === text) return;
    const rev = (have?.rev ?? 0) + 1;
    this.notes[itemId] = { item_id: itemId, owner_id: this.me ?? '', text, rev, device_id: have?.device_id ?? '' };
    void this.#enqueue({
      key: `n|${this.meetingId}|${itemId}`,
      meetingId: this.meetingId,
      owner: this.me,
      seq: nextSeq(),
      path: `${this.#base}/items/${encodeURIComponent(itemId)}/note`,
      body: { text, rev },
    }, seen);
  }

  async #enqueue(q: Queued, seen?: number): Promise<void> {
    const base = this.#baseFor(q.key, seen);
    this.#pendingSave.set(q.key, { seq: q.seq, base });
    // A plain copy: reactive proxies (a rect from the reader's state) cannot be stored.
    q = { ...q, body: { ...(JSON.parse(JSON.stringify(q.body)) as object), base_rev: base } };
    try {
      await tx('readwrite', (s) => {
        s.put(q);
      });
    } catch {
      // IndexedDB refused (quota): the save is still sent now, just not kept across a reload.
      this.#memory.set(q.key, q);
    }
    this.pending = (await queued(this.meetingId).catch(() => [])).length + this.#memory.size;
    void this.flush();
  }
  #memory = new Map<string, Queued>();

  /** Sends the queue in order; on a network failure tries again later (1 s … 30 s). */
  async flush(): Promise<void> {
    if (this.#sending || this.#stopped || !this.me) return;
    this.#sending = true;
    clearTimeout(this.#retry);
    try {
      for (;;) {
        const list = [...(await queued(this.meetingId).catch(() => [] as Queued[])), ...this.#memory.values()].sort((a, b) => a.seq - b.seq);
        this.pending = list.length;
        const q = list[0];
        if (!q) break;
        if (q.owner && q.owner !== this.me) {
          // Made while the tablet was paired to someone else: theirs, never sent as this person's.
          await this.#dequeue(q);
          continue;
        }
        try {
          const answer = await sendJson<AnnotationSaved | NoteSaved>('PUT', q.path, q.body);
          const latest = this.#pendingSave.get(q.key)?.seq === q.seq;
          if ('annotation' in answer) {
            this.#seen(q.key, answer.annotation.rev);
            this.#adopt(answer.annotation);
          } else {
            const n = answer.note;
            this.#seen(q.key, n.rev);
            const have = this.notes[n.item_id];
            if (!have || have.rev <= n.rev) this.notes[n.item_id] = n;
          }
          if (answer.lost && latest) {
            // Queued before the save that was sent is taken off, so a crash in between keeps it.
            this.#pendingSave.delete(q.key);
            this.#keepAside(q, answer);
          }
        } catch (e) {
          if (!(e instanceof ApiError) || e.status >= 500 || e.status === 429 || e.status === 0) {
            this.#retry = setTimeout(() => void this.flush(), this.#delay);
            this.#delay = Math.min(RETRY_MAX_MS, this.#delay * 2);
            return;
          }
          // The box refused it for good (4xx): dropped, so the queue does not stick on it, and
          // the mark goes back to what the box has.
          this.refused = e.body.code;
          const [kind, , id] = q.key.split('|');
          if (id && kind === 'a') delete this.marks[id];
          else if (id) delete this.notes[id];
          await this.#dequeue(q);
          void this.load();
          continue;
        }
        this.#delay = RETRY_MIN_MS;
        await this.#dequeue(q);
      }
    } finally {
      this.#sending = false;
    }
  }

  /**
   * Sends the queue now and waits (up to `ms`) until nothing is left in it: true when every
   * save of this tablet is on the box (what "bản có ghi chú của tôi" is made from).
   */
  async synced(ms = 5000): Promise<boolean> {
    const until = Date.now() + ms;
    this.#delay = RETRY_MIN_MS;
    await this.flush();
    while (this.pending > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      if (!this.#sending) await this.flush();
    }
    return this.pending === 0;
  }

  /** Removes a sent save, unless a newer one of the same mark came in meanwhile. */
  async #dequeue(q: Queued): Promise<void> {
    if (this.#memory.get(q.key)?.seq === q.seq) this.#memory.delete(q.key);
    if (this.#pendingSave.get(q.key)?.seq === q.seq) this.#pendingSave.delete(q.key);
    await tx('readwrite', (s) => {
      const r = s.get(q.key);
      r.onsuccess = () => {
        const cur = r.result as Queued | undefined;
        if (cur && cur.seq === q.seq) s.delete(q.key);
      };
    }).catch(() => undefined);
  }
}

function draftOf(a: AnnotationEntry): MarkDraft {
  return {
    document_id: a.document_id,
    version_sha256: a.version_sha256,
    page: a.page,
    kind: a.kind,
    ...(a.kind === 'bookmark' ? {} : { color: a.color }),
    ...(a.kind === 'ink' ? { width: a.width, strokes: a.strokes } : {}),
    ...(a.kind === 'highlight' || a.kind === 'underline' || a.kind === 'note' ? { rects: a.rects } : {}),
    text: a.text,
    sharing: a.sharing,
  };
}

function entryFrom(id: string, owner: string, b: MarkDraft & { rev: number; deleted?: boolean }): AnnotationEntry {
  return {
    id,
    owner_id: owner,
    document_id: b.document_id,
    version_sha256: b.version_sha256,
    page: b.page,
    kind: b.kind,
    color: b.color ?? '',
    width: b.width ?? 0,
    rects: b.rects ?? [],
    strokes: b.strokes ?? [],
    text: b.text ?? '',
    sharing: b.sharing ?? 'private',
    rev: b.rev,
    device_id: '',
    deleted: b.deleted === true,
  };
}

// One store per meeting per page, shared by the reader and the feed that "follow me" runs.
const stores = new Map<string, Annotations>();

export function annotationsFor(meetingId: string): Annotations {
  let a = stores.get(meetingId);
  if (!a) {
    a = new Annotations(meetingId);
    stores.set(meetingId, a);
  }
  return a;
}

/** Only the existing store (the feed must not create one for staff screens). */
export function knownAnnotations(meetingId: string): Annotations | null {
  return stores.get(meetingId) ?? null;
}
