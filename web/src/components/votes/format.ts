// Words for a question's rules, shared by the secretary's list, the chair's panel and the
// projector: "Quá 1/2 tổng số thành viên", "Bỏ phiếu kín", "⏱ 2:00".
import type { Translate } from '../../lib/i18n';
import type { Base, Choice, Electorate, Question, QuestionEntry, QuestionSeen, QuestionsSeen, QuestionStatus, Threshold } from '../../lib/generated/contract';
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


/** A fresh id for a new question (32 hex), so a retry after a dropped answer adds it once. */
export function newQuestionId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const RANK: Record<QuestionStatus, number> = { draft: 0, open: 1, closed: 2 };

/**
 * The list with a command's answer in it. The feed may already have carried the question
 * further (closed, more votes cast) than the answer says: what is further along is kept.
 */
export function mergeQuestion(qs: QuestionsSeen, seen: QuestionSeen): QuestionsSeen {
  const id = seen.question.question.id;
  const held = qs.questions.find((q) => q.question.question.id === id);
  if (!held) return { ...qs, questions: [...qs.questions, seen].sort((a, b) => a.question.ord - b.question.ord) };
  const a = held.question;
  const b = seen.question;
  const keep = RANK[a.status] > RANK[b.status] || (a.status === b.status && a.cast > b.cast);
  return keep ? qs : { ...qs, questions: qs.questions.map((q) => (q.question.question.id === id ? seen : q)) };
}

const VI = new Intl.Collator('vi', { sensitivity: 'base' });

/** Vietnamese order: by given name (the last word), then the whole name from the family name. */
export function byVietnameseName(a: string, b: string): number {
  const given = (s: string): string => s.trim().split(/\s+/).pop() ?? '';
  return VI.compare(given(a), given(b)) || VI.compare(a, b);
}

/**
 * A screen that cannot vote (the projector) and never saw the draft: the `vote.opened` event
 * carries all it shows, so it adds the question instead of reading the whole list again at the
 * moment every screen in the room hears of the vote.
 */
export function withOpened(qs: QuestionsSeen, ev: { seq: number; at: string; kind: string; body?: Record<string, unknown> }): QuestionsSeen | null {
  const b = ev.body ?? {};
  const entry = b.question as QuestionEntry | undefined;
  if (ev.kind !== 'vote.opened' || !entry || typeof entry.id !== 'string') return null;
  if (qs.questions.some((q) => q.question.question.id === entry.id)) return null;
  const question: Question = {
    question: entry,
    ord: ev.seq,
    status: 'open',
    nonce: typeof b.nonce === 'string' ? b.nonce : null,
    electorate: (b.electorate as Electorate | undefined) ?? null,
    opened_at: ev.at,
    closes_at: typeof b.closes_at === 'string' ? b.closes_at : null,
    cast: 0,
    closed_at: null,
    outcome: null,
    manual: false,
  };
  return { ...qs, questions: [...qs.questions, { question, mine: null, may_vote: false }] };
}

/**
 * Which result a screen shows first: the question closed last. `closed_at` has whole seconds,
 * and a countdown and a hand count can close two questions in the same second, so a screen
 * remembers the order in which it saw them close; those already closed when it loaded go by
 * `closed_at`, then by the order they were added.
 */
export class CloseOrder {
  #seen = new Map<string, number>();
  #tick = 0;

  latest(all: readonly Question[], among: (q: Question) => boolean): Question | null {
    const closed = all
      .filter((q) => q.status === 'closed')
      .sort((a, b) => Date.parse(a.closed_at ?? '') - Date.parse(b.closed_at ?? '') || a.ord - b.ord);
    for (const q of closed) if (!this.#seen.has(q.question.id)) this.#seen.set(q.question.id, ++this.#tick);
    let best: Question | null = null;
    let bestN = -1;
    for (const q of closed) {
      const n = this.#seen.get(q.question.id) ?? 0;
      if (among(q) && n > bestN) {
        best = q;
        bestN = n;
      }
    }
    return best;
  }
}
