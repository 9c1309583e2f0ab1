// What pdf.js 6's "legacy" build uses without polyfilling it, and our oldest tablets lack:
// iPadOS 16.0–17.3 Safari and Android Chrome 100–118 have no Promise.withResolvers, Chrome < 110
// no Array.prototype.toSpliced, neither has AbortSignal.any nor async iteration of streams.
// Loaded before pdf.js, in the page and in the pdf.js worker (readerWorker.ts).

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>(): Resolvers<T> {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const A = Array.prototype as unknown as { toSpliced?: unknown };
if (typeof A.toSpliced !== 'function') {
  Object.defineProperty(Array.prototype, 'toSpliced', {
    configurable: true,
    writable: true,
    value: function toSpliced<T>(this: T[], start: number, deleteCount?: number, ...items: T[]): T[] {
      const copy = Array.from(this);
      if (deleteCount === undefined) copy.splice(start);
      else copy.splice(start, deleteCount, ...items);
      return copy;
    },
  });
}

const S = AbortSignal as unknown as { any?: (signals: AbortSignal[]) => AbortSignal };
if (typeof AbortSignal !== 'undefined' && typeof S.any !== 'function') {
  S.any = (signals: AbortSignal[]): AbortSignal => {
    const ctl = new AbortController();
    for (const s of signals) {
      if (s.aborted) {
        ctl.abort(s.reason);
        return ctl.signal;
      }
    }
    for (const s of signals) s.addEventListener('abort', () => ctl.abort(s.reason), { once: true, signal: ctl.signal });
    return ctl.signal;
  };
}

const RS = typeof ReadableStream === 'undefined' ? null : (ReadableStream.prototype as unknown as Record<symbol, unknown>);
if (RS && typeof RS[Symbol.asyncIterator] !== 'function') {
  RS[Symbol.asyncIterator] = async function* iterate(this: ReadableStream<unknown>): AsyncGenerator<unknown> {
    const reader = this.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  };
}

export {};
