// pdf.js, loaded only when a document is opened (the reader imports this module dynamically,
// so neither the delegate's first screen nor the secretary's desk downloads it). The legacy
// build, for Safari on iPadOS 16 and Chrome 100 (docs/STYLE: mozilla/pdf.js #17992, #19859).
import './readerPolyfills';
import { getDocument, GlobalWorkerOptions, TextLayer, version, type PDFDocumentLoadingTask } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { DocumentInitParameters } from 'pdfjs-dist/types/src/display/api';
// The worker is our own bundle (polyfills first, then pdf.js's worker), served from the box
// itself: the app's CSP allows same-origin workers only.
import workerUrl from './readerWorker.ts?worker&url';

GlobalWorkerOptions.workerSrc = workerUrl;

/**
 * Where the box serves pdf.js's decoders for scanned pages (JBIG2, CCITT fax, JPEG 2000) and its
 * standard fonts; vite.config.ts copies them there, in a folder named after the version.
 */
const PDFJS_ASSETS = `${import.meta.env.BASE_URL}assets/pdfjs-${version}/`;

export { TextLayer };
export type { PDFDocumentLoadingTask, PDFDocumentProxy, PDFPageProxy, PageViewport, RenderTask } from 'pdfjs-dist/legacy/build/pdf.mjs';

/**
 * Opens a PDF by URL. The box answers Range requests, so pdf.js fetches 64 kB pieces as pages
 * need them and page 1 shows before the whole file has arrived
 * (tests/browser/reader-range.test.mjs).
 */
export function openPdf(url: string, onProgress?: (loaded: number, total: number) => void): PDFDocumentLoadingTask {
  const params: DocumentInitParameters & { isEvalSupported: boolean } = {
    url,
    rangeChunkSize: 65536,
    // Only the pieces pages ask for: no fetching of the rest in the background…
    disableAutoFetch: true,
    // …and no streaming of the whole file. With streaming on, pdf.js keeps its first plain GET
    // running to the end alongside the Range requests, so a 50 MB file came down in full before
    // page 1 was drawn. Off, that GET is dropped as soon as its headers say Range works.
    disableStream: true,
    // No eval, no `new Function`: the CSP has no 'unsafe-eval'. (pdf.js 6 no longer compiles
    // fonts with eval at all; the option stays for any older build put in its place.)
    isEvalSupported: false,
    // Where the CSP stops WebAssembly, pdf.js falls back to the decoders' plain JavaScript
    // versions from the same folder.
    wasmUrl: `${PDFJS_ASSETS}wasm/`,
    standardFontDataUrl: `${PDFJS_ASSETS}standard_fonts/`,
    withCredentials: false,
    enableXfa: false,
  };
  const task = getDocument(params);
  if (onProgress) task.onProgress = ({ loaded, total }: { loaded: number; total: number }) => onProgress(loaded, total);
  return task;
}
