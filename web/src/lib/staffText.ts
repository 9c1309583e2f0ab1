// Words for the staff screens that depend on a value: body kinds, thresholds, attendance.
import type { MessageKey, Translate } from './i18n';
import type { AttendanceStatus, BodyKind, Threshold } from './staffApi';

export function bodyKindKey(kind: BodyKind): MessageKey {
  switch (kind) {
    case 'ubnd':
      return 'staff.kind.ubnd';
    case 'hdnd':
      return 'staff.kind.hdnd';
    case 'party':
      return 'staff.kind.party';
    default:
      return 'staff.kind.other';
  }
}

/** "ít nhất 2/3 số thành viên" / "hơn 1/2 tổng số thành viên". */
export function thresholdText(th: Threshold, what: 'quorum' | 'pass', t: Translate): string {
  const fraction = `${th.numerator}/${th.denominator}`;
  const key: MessageKey =
    th.comparison === 'more_than'
      ? what === 'quorum'
        ? 'staff.threshold.quorum_more_than'
        : 'staff.threshold.pass_more_than'
      : what === 'quorum'
        ? 'staff.threshold.quorum_at_least'
        : 'staff.threshold.pass_at_least';
  return t(key, { fraction });
}

/** How an attendance status looks: its words, a shape that does not rely on colour, a tone. */
export interface StatusLook {
  key: MessageKey;
  symbol: string;
  tone: 'ok' | 'warn' | 'bad' | 'info' | 'none';
}

export const STATUS_LOOK: Record<AttendanceStatus, StatusLook> = {
  present: { key: 'staff.status.present', symbol: '✓', tone: 'ok' },
  late: { key: 'staff.status.late', symbol: '◔', tone: 'warn' },
  left_early: { key: 'staff.status.left_early', symbol: '↩', tone: 'warn' },
  excused: { key: 'staff.status.excused', symbol: 'P', tone: 'info' },
  absent: { key: 'staff.status.absent', symbol: '✕', tone: 'bad' },
  invited: { key: 'staff.status.invited', symbol: '…', tone: 'none' },
};
