// The one message catalogue: every user-facing string, in Vietnamese (first) and English.
// Vietnamese words follow docs/GLOSSARY: phòng họp (room), thư ký (secretary), đại biểu (delegate).
import { derived, writable, type Readable } from 'svelte/store';
import { delegateEn, delegateVi } from './messages/delegate';
import { staffEn, staffVi } from './messages/staff';
import { prepareEn, prepareVi } from './messages/prepare';
import { screenEn, screenVi } from './messages/screen';
import { consoleEn, consoleVi } from './messages/console';
import { votingEn, votingVi } from './messages/voting';
import { ballotEn, ballotVi } from './messages/ballot';
import { annotationsEn, annotationsVi } from './messages/annotations';
import { offlineEn, offlineVi } from './messages/offline';
import { syncEn, syncVi } from './messages/sync';

export type Lang = 'vi' | 'en';
export const LANGS: readonly Lang[] = ['vi', 'en'];

const vi = {
  ...delegateVi,
  ...staffVi,
  ...prepareVi,
  ...screenVi,
  ...consoleVi,
  ...votingVi,
  ...ballotVi,
  ...annotationsVi,
  ...offlineVi,
  ...syncVi,
  'app.title': 'Phòng họp',
  'app.brand': 'Phòng họp không giấy',

  'lang.label': 'Ngôn ngữ',
  // Each language is named in itself, so both catalogues carry the same two names.
  'lang.vi': 'Tiếng Việt',
  'lang.en': 'English',

  'status.label': 'Kết nối với máy chủ phòng họp',
  'status.connecting': 'Đang kết nối…',
  'status.connected': 'Đã kết nối',
  'status.reconnecting': 'Đang kết nối lại…',
  'status.offline': 'Mất kết nối',
  'status.offline_hint': 'Kiểm tra Wi-Fi của phòng họp. Máy sẽ tự kết nối lại.',

  'room.loading': 'Đang tải thông tin phòng họp…',
  'room.unavailable': 'Chưa tải được thông tin phòng họp.',

  'notice.heading': 'Thông báo của thư ký',
  'notice.none': 'Hiện chưa có thông báo.',
  'notice.at': 'Lúc {time}',

  'notfound.title': 'Không có trang này',
  'notfound.back': 'Về trang chính',

  // Messages for API error codes (`{"code": …}`); see errorMessage() below.
  'error.network': 'Không liên lạc được với máy chủ phòng họp.',
  'error.unknown': 'Đã có lỗi. Xin thử lại.',
  'error.auth.bad_credentials': 'Tên đăng nhập hoặc mật khẩu không đúng.',
} as const;

export type MessageKey = keyof typeof vi;

const en: { readonly [K in MessageKey]: string } = {
  ...delegateEn,
  ...staffEn,
  ...prepareEn,
  ...screenEn,
  ...consoleEn,
  ...votingEn,
  ...ballotEn,
  ...annotationsEn,
  ...offlineEn,
  ...syncEn,
  'app.title': 'Meeting room',
  'app.brand': 'Paperless meeting room',

  'lang.label': 'Language',
  'lang.vi': 'Tiếng Việt',
  'lang.en': 'English',

  'status.label': 'Connection to the meeting room server',
  'status.connecting': 'Connecting…',
  'status.connected': 'Connected',
  'status.reconnecting': 'Reconnecting…',
  'status.offline': 'Connection lost',
  'status.offline_hint': 'Check the meeting room Wi-Fi. This device will reconnect by itself.',

  'room.loading': 'Loading the meeting room…',
  'room.unavailable': 'Could not load the meeting room details yet.',

  'notice.heading': 'Notice from the secretary',
  'notice.none': 'No notices at the moment.',
  'notice.at': 'At {time}',

  'notfound.title': 'This page does not exist',
  'notfound.back': 'Back to the start page',

  'error.network': 'Cannot reach the meeting room server.',
  'error.unknown': 'Something went wrong. Please try again.',
  'error.auth.bad_credentials': 'Wrong user name or password.',
};

const catalogue: Record<Lang, { readonly [K in MessageKey]: string }> = { vi, en };

/** BCP 47 locale used for dates and numbers in each language. */
export const LOCALE: Record<Lang, string> = { vi: 'vi-VN', en: 'en-GB' };

const STORAGE_KEY = 'phonghop.lang';

function isLang(value: unknown): value is Lang {
  return value === 'vi' || value === 'en';
}

function storedLang(): Lang {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    if (isLang(value)) return value;
  } catch {
    // Private browsing or storage disabled: fall back to Vietnamese.
  }
  return 'vi';
}

const langStore = writable<Lang>(storedLang());

/** The current language; Vietnamese unless the user chose English on this device. */
export const lang: Readable<Lang> = { subscribe: langStore.subscribe };

export function setLang(next: Lang): void {
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not persisted; the choice still holds until the page is reloaded.
  }
  langStore.set(next);
}

// <html lang> follows the language, for screen readers and Safari's hyphenation.
langStore.subscribe((l) => {
  document.documentElement.lang = l;
});

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translate(l: Lang, key: MessageKey, params?: Record<string, string | number>): string {
  const text = catalogue[l][key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** `$t('status.connected')` in components. */
export const t: Readable<Translate> = derived(
  langStore,
  (l): Translate =>
    (key, params) =>
      translate(l, key, params),
);

/** An error body from the box: `{"code": "auth.bad_credentials", "message": "…", "message_en": "…"}`. */
export interface ApiErrorBody {
  code: string;
  message?: string;
  message_en?: string;
}

function isMessageKey(key: string): key is MessageKey {
  return key in vi;
}

/**
 * The message to show for an API error: our own wording when the code is known, else the
 * server's message in the current language, else a generic one.
 */
export function errorMessage(l: Lang, err: ApiErrorBody | null | undefined): string {
  if (!err) return translate(l, 'error.unknown');
  const key = `error.${err.code}`;
  if (isMessageKey(key)) return translate(l, key);
  const fromServer = l === 'en' ? (err.message_en ?? err.message) : (err.message ?? err.message_en);
  return fromServer || translate(l, 'error.unknown');
}
