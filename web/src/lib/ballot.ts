// One ballot from this tablet (docs/voting-design.md): the exact text the box verifies, signed
// with the device's non-extractable key from pairing; for a secret vote, the receipt (SHA-256 of
// 32 random bytes the tablet keeps). A ballot is stored in IndexedDB before it is first sent, so a
// retry after a dropped link or a reload carries the same ballot id (named) or receipt (secret)
// and the box counts it once.
import { sign } from './devicekey';
import type { Marked, Secrecy } from './generated/contract';

/** The version of the signed ballot format (`vote::BALLOT_FORMAT`). */
export const BALLOT_FORMAT = 'phonghop-ballot/1';
/** The version of a secret vote's signed "I took part" (`vote::PARTICIPATION_FORMAT`). */
export const PARTICIPATION_FORMAT = 'phonghop-participation/1';

/** The mark as it appears in the signed text: a fixed word, or `c:` and the sorted candidate ids. */
export function markText(mark: Marked): string {
  if ('choice' in mark) return mark.choice;
  // Ids are lower-case hex: the default (UTF-16) order is the box's byte order.
  return `c:${[...mark.candidates].sort().join(',')}`;
}

/** What a named ballot signs (`vote::ballot_payload`). */
export function ballotPayload(node: string, meeting: string, question: string, nonce: string, ballotId: string, mark: Marked): string {
  return `${BALLOT_FORMAT}|${node}|${meeting}|${question}|${nonce}|${ballotId}|${markText(mark)}`;
}

/** What a secret vote's participation signs (`vote::participation_payload`): who, not how. */
export function participationPayload(node: string, meeting: string, question: string, nonce: string, person: string): string {
  return `${PARTICIPATION_FORMAT}|${node}|${meeting}|${question}|${nonce}|${person}`;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(s: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return b;
}

/** Where a stored ballot stands. */
export type BallotState =
  /** Signed and stored; not yet answered 200. */
  | 'pending'
  /** The box answered 200 (or, after close, listed it as this person's). */
  | 'accepted'
  /** The vote closed before the box had it. */
  | 'unsent';

/** A ballot as this tablet keeps it (one per meeting and question). */
export interface StoredBallot {
  /** `<meeting id>/<question id>`. */
  key: string;
  meetingId: string;
  questionId: string;
  personId: string;
  secrecy: Secrecy;
  nonce: string;
  mark: Marked;
  /** ECDSA P-256 / SHA-256, r‖s, base64url: over the ballot (named) or the participation (secret). */
  signature: string;
  /** Named: the ballot's id, chosen here once. */
  ballotId: string | null;
  /** Secret: hex SHA-256 of `secret`. */
  receipt: string | null;
  /** Secret: the 32 random bytes (hex) behind the receipt; they show the receipt is this tablet's. */
  secret: string | null;
  state: BallotState;
  /** Local time it was signed, for nothing but the curious. */
  createdAt: number;
}

/** The request body of `POST …/questions/{qid}/ballots`. */
export function ballotBody(b: StoredBallot): Record<string, unknown> {
  return b.secrecy === 'secret'
    ? { receipt: b.receipt, mark: b.mark, signature: b.signature }
    : { ballot_id: b.ballotId, mark: b.mark, signature: b.signature };
}

export interface BallotInput {
  node: string;
  meetingId: string;
  questionId: string;
  personId: string;
  secrecy: Secrecy;
  nonce: string;
  mark: Marked;
}

/**
 * Makes and signs a ballot, and stores it before anything is sent. For a named vote the ballot id
 * is new; for a secret one the receipt is the SHA-256 of 32 fresh random bytes.
 */
export async function makeBallot(i: BallotInput): Promise<StoredBallot> {
  let ballotId: string | null = null;
  let receipt: string | null = null;
  let secret: string | null = null;
  let text: string;
  if (i.secrecy === 'secret') {
    const bytes = randomBytes(32);
    secret = hex(bytes);
    receipt = await sha256Hex(bytes);
    text = participationPayload(i.node, i.meetingId, i.questionId, i.nonce, i.personId);
  } else {
    ballotId = hex(randomBytes(16));
    text = ballotPayload(i.node, i.meetingId, i.questionId, i.nonce, ballotId, i.mark);
  }
  const signature = await sign(text);
  const b: StoredBallot = {
    key: `${i.meetingId}/${i.questionId}`,
    meetingId: i.meetingId,
    questionId: i.questionId,
    personId: i.personId,
    secrecy: i.secrecy,
    nonce: i.nonce,
    mark: i.mark,
    signature,
    ballotId,
    receipt,
    secret,
    state: 'pending',
    createdAt: Date.now(),
  };
  await saveBallot(b);
  return b;
}

/** Whether a stored receipt is the SHA-256 of its stored bytes (it was made here). */
export async function receiptHolds(b: StoredBallot): Promise<boolean> {
  if (!b.receipt || !b.secret) return false;
  return (await sha256Hex(fromHex(b.secret))) === b.receipt;
}

// ---- IndexedDB ---------------------------------------------------------------------------------

const DB_NAME = 'phonghop-ballots';
const DB_VERSION = 1;
const STORE = 'ballots';

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function openDb(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('no IndexedDB'));
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB_NAME, DB_VERSION);
    r.onupgradeneeded = () => {
      if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE, { keyPath: 'key' });
    };
    r.onsuccess = () => {
      const db = r.result;
      db.onversionchange = () => db.close();
      resolve(db);
    };
    r.onerror = () => reject(r.error ?? new Error('cannot open IndexedDB'));
    r.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, mode);
    const result = await req(fn(tx.objectStore(STORE)));
    // A ballot counts as kept only once its transaction has committed.
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
    return result;
  } finally {
    db.close();
  }
}

export async function saveBallot(b: StoredBallot): Promise<void> {
  await withStore('readwrite', (s) => s.put(plainCopy(b)));
}

/** This tablet's ballots in a meeting (any state). */
export async function ballotsOf(meetingId: string): Promise<StoredBallot[]> {
  const all = await withStore<StoredBallot[]>('readonly', (s) => s.getAll(IDBKeyRange.bound(`${meetingId}/`, `${meetingId}/\uffff`)));
  return all.filter((b) => b.meetingId === meetingId);
}

/** A plain copy (a Svelte state proxy cannot be structured-cloned into IndexedDB). */
function plainCopy(b: StoredBallot): StoredBallot {
  return JSON.parse(JSON.stringify(b)) as StoredBallot;
}
