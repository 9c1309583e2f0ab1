// A tiny path router. The box serves index.html for every non-/api path, so each screen has a
// plain address (a QR code or bookmark can point at it). Screens register in App.svelte.
import { readable } from 'svelte/store';

function current(): string {
  return location.pathname || '/';
}

let notify: ((path: string) => void) | undefined;

/** The current path, e.g. "/". */
export const path = readable(current(), (set) => {
  notify = set;
  const onPop = (): void => set(current());
  window.addEventListener('popstate', onPop);
  return () => {
    window.removeEventListener('popstate', onPop);
    notify = undefined;
  };
});

/** Go to another screen without reloading (keeps the live connection). */
export function navigate(to: string): void {
  if (to === current()) return;
  history.pushState(null, '', to);
  notify?.(current());
  window.scrollTo(0, 0);
}

/** onclick for same-origin links: navigate in place instead of reloading the app. */
export function linkClick(e: MouseEvent): void {
  const a = e.currentTarget;
  if (!(a instanceof HTMLAnchorElement) || a.origin !== location.origin) return;
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.pathname);
}
