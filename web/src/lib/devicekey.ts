// This tablet's own P-256 key: made once when it is paired, kept in IndexedDB, and used to sign
// what must provably come from this tablet (the pairing request now, ballots later). The private
// key is non-extractable: the browser stores it as a CryptoKey and never hands out its bytes.

const DB_NAME = 'phonghop-device';
const DB_VERSION = 1;
const STORE = 'keys';
/** One record: this device's key pair. A new pairing replaces it. */
const RECORD = 'device';

const ECDSA_KEY: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SIGN: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

/** Why a key could not be made or used: no WebCrypto (not a secure context) or no IndexedDB. */
export class DeviceKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceKeyError';
  }
}

/** WebCrypto and IndexedDB are both here (a secure context on a modern browser). */
export function deviceKeysSupported(): boolean {
  return typeof crypto !== 'undefined' && crypto.subtle !== undefined && typeof indexedDB !== 'undefined';
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new DeviceKeyError('IndexedDB request failed'));
  });
}

/** Opens (creating on first use) the device's database. */
export function openDb(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new DeviceKeyError('no IndexedDB'));
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another tab upgrading the schema must not be blocked by this one.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    req.onerror = () => reject(req.error ?? new DeviceKeyError('cannot open IndexedDB'));
    req.onblocked = () => reject(new DeviceKeyError('IndexedDB is blocked by another tab'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, mode);
    const result = await request(fn(tx.objectStore(STORE)));
    // A write counts only once its transaction has committed.
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new DeviceKeyError('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new DeviceKeyError('IndexedDB transaction aborted'));
    });
    return result;
  } finally {
    db.close();
  }
}

function isKeyPair(value: unknown): value is CryptoKeyPair {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<CryptoKeyPair>;
  return v.privateKey instanceof CryptoKey && v.publicKey instanceof CryptoKey;
}

/** The stored key pair, or null when this device has none (never paired, or storage cleared). */
export async function getKeyPair(): Promise<CryptoKeyPair | null> {
  const value = await withStore<unknown>('readonly', (s) => s.get(RECORD));
  return isKeyPair(value) ? value : null;
}

/** Makes a new non-extractable key pair and stores it in place of any previous one. */
export async function createKeyPair(): Promise<CryptoKeyPair> {
  if (!deviceKeysSupported()) throw new DeviceKeyError('WebCrypto or IndexedDB is missing');
  const pair = await crypto.subtle.generateKey(ECDSA_KEY, false, ['sign', 'verify']);
  // A CryptoKeyPair is a plain dictionary; each CryptoKey is structured-cloned as a key object.
  await withStore('readwrite', (s) => s.put({ privateKey: pair.privateKey, publicKey: pair.publicKey }, RECORD));
  return pair;
}

/** Removes the key (after the box revoked this device, before pairing again). */
export async function forgetKeyPair(): Promise<void> {
  await withStore('readwrite', (s) => s.delete(RECORD));
}

/** The public key as the box wants it: uncompressed SEC1 point (65 bytes), base64url. */
export async function publicKeyB64(pair: CryptoKeyPair): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)));
}

/** Signs with ECDSA P-256 / SHA-256; the result is r‖s (64 bytes), base64url. */
export async function signWith(pair: CryptoKeyPair, data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const sig = await crypto.subtle.sign(ECDSA_SIGN, pair.privateKey, bytes as Uint8Array<ArrayBuffer>);
  return b64url(new Uint8Array(sig));
}

/** Signs with this device's stored key (for ballots and other acts that need proof). */
export async function sign(data: Uint8Array | string): Promise<string> {
  const pair = await getKeyPair();
  if (!pair) throw new DeviceKeyError('this device has no key; pair it first');
  return signWith(pair, data);
}

/** base64url without padding, as the box reads it. */
export function b64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
