// Finding people in the staff screens' lists.

/** Case- and accent-insensitive text for search, so "nguyen" finds "Nguyễn" and "dung" "Dũng". */
export function foldText(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase();
}
