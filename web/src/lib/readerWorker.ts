// The pdf.js worker, bundled by Vite (so its syntax is lowered to our targets) after the
// polyfills it needs on older tablets. The reader points pdf.js at this file's URL.
import './readerPolyfills';
import 'pdfjs-dist/legacy/build/pdf.worker.mjs';
