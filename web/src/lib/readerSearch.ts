// Finding words in a document's text layer, Vietnamese-aware: by default "ngan sach" finds
// "ngân sách" and "Ngân Sách" (NFD, combining marks dropped, đ→d, lower case, runs of spaces as
// one). Each folded character remembers where it came from, so a hit maps back to the exact
// characters of the page to highlight.

/** A string made comparable, and for each of its characters the index in the original. */
export interface Folded {
  text: string;
  /** `from[i]` = index in the original string of folded character i; one extra entry = length. */
  from: number[];
}

const COMBINING = /\p{M}/gu;
const SPACE = /\s/u;
const MARK = /\p{M}/u;

function foldCluster(cluster: string, exact: boolean): string {
  if (exact) return cluster.normalize('NFC').toLocaleLowerCase('vi');
  return cluster.normalize('NFD').replace(COMBINING, '').replace(/[đĐ]/g, 'd').toLocaleLowerCase('vi');
}

/**
 * Folds `s` for matching. `exact` keeps diacritics (but still ignores case, spacing and
 * whether the text was stored composed or decomposed).
 */
export function fold(s: string, exact = false): Folded {
  let text = '';
  const from: number[] = [];
  let i = 0;
  let lastWasSpace = false;
  while (i < s.length) {
    const start = i;
    const cp = s.codePointAt(i) ?? 0;
    i += cp > 0xffff ? 2 : 1;
    const ch = String.fromCodePoint(cp);
    if (SPACE.test(ch)) {
      if (!lastWasSpace) {
        text += ' ';
        from.push(start);
      }
      lastWasSpace = true;
      continue;
    }
    // A base character and the combining marks after it (decomposed text) fold together.
    while (i < s.length) {
      const next = s.codePointAt(i) ?? 0;
      const nextCh = String.fromCodePoint(next);
      if (!MARK.test(nextCh)) break;
      i += next > 0xffff ? 2 : 1;
    }
    lastWasSpace = false;
    const folded = foldCluster(s.slice(start, i), exact);
    for (const c of folded) {
      text += c;
      from.push(start);
    }
  }
  from.push(s.length);
  return { text, from };
}

/** The query as it is matched: folded, trimmed. Empty means "nothing to find". */
export function foldQuery(q: string, exact = false): string {
  return fold(q.trim(), exact).text;
}

/** Start indices of every occurrence of `needle` in `haystack`, left to right, not overlapping. */
export function findAll(haystack: string, needle: string): number[] {
  const hits: number[] = [];
  if (!needle) return hits;
  let at = haystack.indexOf(needle);
  while (at !== -1) {
    hits.push(at);
    at = haystack.indexOf(needle, at + needle.length);
  }
  return hits;
}

/** A page's text as one string, built from pdf.js text items, with where each item starts. */
export interface PageText {
  text: string;
  /** Start offset in `text` of each text item (pdf.js `textContent.items` that have `str`). */
  starts: number[];
  /** Length of each item's `str`. */
  lengths: number[];
}

/** Joins text items; an item that ends a line is followed by a space so words do not run together. */
export function pageText(items: readonly { str: string; hasEOL?: boolean }[]): PageText {
  let text = '';
  const starts: number[] = [];
  const lengths: number[] = [];
  for (const item of items) {
    starts.push(text.length);
    lengths.push(item.str.length);
    text += item.str;
    if (item.hasEOL) text += '\n';
  }
  return { text, starts, lengths };
}

/** A piece of a hit inside one text item: highlight characters [start, end) of item `item`. */
export interface HitPart {
  item: number;
  start: number;
  end: number;
}

/** A hit on one page: the parts of the text items it covers (a hit may cross items). */
export interface PageHit {
  parts: HitPart[];
}

/** Every hit of the folded `query` on a page. */
export function searchPage(page: PageText, query: string, exact = false): PageHit[] {
  if (!query) return [];
  const folded = fold(page.text, exact);
  const hits: PageHit[] = [];
  for (const at of findAll(folded.text, query)) {
    const start = folded.from[at] ?? 0;
    const lastFrom = folded.from[at + query.length - 1] ?? start;
    // The hit ends after the whole cluster its last folded character came from.
    let k = at + query.length;
    while (k < folded.from.length - 1 && folded.from[k] === lastFrom) k++;
    const end = folded.from[k] ?? page.text.length;
    const parts = partsOf(page, start, end);
    if (parts.length > 0) hits.push({ parts });
  }
  return hits;
}

/** Splits the original range [start, end) of the page text into per-item ranges. */
function partsOf(page: PageText, start: number, end: number): HitPart[] {
  const parts: HitPart[] = [];
  for (let k = 0; k < page.starts.length; k++) {
    const s = page.starts[k] ?? 0;
    const e = s + (page.lengths[k] ?? 0);
    if (e <= start || s >= end) continue;
    const a = Math.max(start, s) - s;
    const b = Math.min(end, e) - s;
    if (b > a) parts.push({ item: k, start: a, end: b });
  }
  return parts;
}
