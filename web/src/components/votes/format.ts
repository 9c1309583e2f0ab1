// Words for a question's rules, shared by the secretary's list, the chair's panel and the
// projector: "Quá 1/2 tổng số thành viên", "Bỏ phiếu kín", "⏱ 2:00".
import type { Translate } from '../../lib/i18n';
import type { Base, Choice, Question, QuestionEntry, QuestionStatus, Threshold } from '../../lib/generated/contract';
import { clockText } from '../../lib/liveReducer';

export const BASES: readonly Base[] = ['all_members', 'present', 'cast'];
export const CHOICES: readonly Choice[] = ['approve', 'disapprove', 'abstain'];

/** The two majorities the law names; anything else is "custom". */
export const HALF: Threshold = { numerator: 1, denominator: 2, comparison: 'more_than' };
export const TWO_THIRDS: Threshold = { numerator: 2, denominator: 3, comparison: 'at_least' };

export type Preset = 'half' | 'two_thirds' | 'custom';

export function sameThreshold(a: Threshold | null | undefined, b: Threshold | null | undefined): boolean {
  return !!a && !!b && a.numerator * b.denominator === b.numerator * a.denominator && a.comparison === b.comparison;
}

export function presetOf(th: Threshold | null | undefined): Preset {
  if (sameThreshold(th, HALF)) return 'half';
  if (sameThreshold(th, TWO_THIRDS)) return 'two_thirds';
  return 'custom';
}

export function thresholdText(t: Translate, th: Threshold): string {
  const p = presetOf(th);
  if (p === 'half') return t('voting.threshold.half');
  if (p === 'two_thirds') return t('voting.threshold.two_thirds');
  return t('voting.threshold.text', { cmp: t(`voting.cmp.${th.comparison}`), n: th.numerator, d: th.denominator });
}

export function baseText(t: Translate, base: Base): string {
  return t(`voting.base.${base}`);
}

/** "Quá 1/2 tổng số thành viên" (the base in lower case after the fraction). */
export function ruleText(t: Translate, q: QuestionEntry): string {
  return t('voting.summary.rule', { threshold: thresholdText(t, q.threshold), base: baseText(t, q.base).toLocaleLowerCase('vi') });
}

/** Everything about a question but its title, as short parts joined by " · ". */
export function summaryParts(t: Translate, q: QuestionEntry): string[] {
  const parts = [
    q.kind === 'election' ? t('voting.summary.election', { n: q.max_choices, m: q.candidates.length }) : t('voting.kind.motion'),
    t(`voting.secrecy.${q.secrecy}`),
    ruleText(t, q),
    q.tie === 'chair_decides' ? t('voting.summary.tie_chair') : t('voting.summary.tie_threshold'),
  ];
  if (q.changeable) parts.push(t('voting.summary.changeable'));
  if (q.countdown_seconds) parts.push(t('voting.summary.countdown', { time: clockText(q.countdown_seconds) }));
  return parts;
}

export const STATUS_TONE: Record<QuestionStatus, string> = { draft: 'none', open: 'warn', closed: 'ok' };

/** Seconds left before an open vote closes by itself, by the box's clock (null: no countdown). */
export function secondsLeft(q: Question, nowMs: number): number | null {
  const end = q.closes_at ? Date.parse(q.closes_at) : NaN;
  return Number.isFinite(end) ? Math.max(0, Math.ceil((end - nowMs) / 1000)) : null;
}

/** What `POST/PUT …/questions` takes: unset rules take the body's defaults. */
export interface QuestionInput {
  id?: string;
  item_id: string;
  title: string;
  kind: 'motion' | 'election';
  candidates?: { id?: string; name: string }[];
  max_choices?: number;
  secrecy: 'named' | 'secret';
  base?: Base;
  threshold?: Threshold;
  tie?: 'chair_decides' | 'threshold_only';
  changeable: boolean;
  countdown_seconds: number | null;
}

/** A fresh id for a new question (32 hex), so a retry after a dropped answer adds it once. */
export function newQuestionId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
