// Small pieces of the reader that need no pdf.js: the last page read per document, zoom steps,
// and the canvas resolution a tablet can afford.

const PAGE_KEY = 'phonghop.reader.page.';

/** The page this device last read in `docId` (1 when never opened or storage is off). */
export function lastPage(docId: string): number {
  try {
    const n = Number(localStorage.getItem(PAGE_KEY + docId));
    return Number.isInteger(n) && n >= 1 ? n : 1;
  } catch {
    return 1;
  }
}

export function rememberPage(docId: string, page: number): void {
  try {
    if (page <= 1) localStorage.removeItem(PAGE_KEY + docId);
    else localStorage.setItem(PAGE_KEY + docId, String(page));
  } catch {
    // Private browsing: nothing remembered.
  }
}

/** Zoom is relative to "fit width" (1). */
export const ZOOM_MIN = 0.5;
export const ZOOM_MAX = 4;
const STEPS = [0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 2.5, 3, 4];

export function clampZoom(z: number): number {
  return Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, z));
}

/** The next zoom step up (+1) or down (-1) from `z`. */
export function stepZoom(z: number, dir: 1 | -1): number {
  if (dir > 0) return STEPS.find((s) => s > z + 0.01) ?? ZOOM_MAX;
  return [...STEPS].reverse().find((s) => s < z - 0.01) ?? ZOOM_MIN;
}

/**
 * Device pixels per CSS pixel for a page canvas of `cssWidth` × `cssHeight`: the screen's
 * density (at most 2), lowered so one canvas stays under ~12 million pixels (iPadOS refuses
 * canvases much larger than 16 million and caps the memory of all canvases together).
 */
export function outputScale(cssWidth: number, cssHeight: number, dpr = globalThis.devicePixelRatio || 1): number {
  const want = Math.min(2, Math.max(1, dpr));
  const area = cssWidth * cssHeight;
  const cap = area > 0 ? Math.sqrt(12_000_000 / area) : want;
  return Math.max(0.5, Math.min(want, cap));
}
