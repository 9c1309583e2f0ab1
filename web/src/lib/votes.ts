// Voting as every screen keeps it: the box's `QuestionsSeen` snapshot (GET …/questions), with
// the feed's vote events applied to it, the coalesced "N have voted" counter, the API calls,
// and the Vietnamese words for marks, rules and outcomes. The ballot itself (signing on the
// tablet) is in ballot.ts.
import { getJson, sendJson } from './api';
import type {
  Base,
  BallotAccepted,
  Choice,
  Electorate,
  Id,
  Marked,
  Method,
  Outcome as VoteOutcome,
  Question,
  QuestionEntry,
  QuestionSeen,
  QuestionsSeen,
  ResultSummary,
  Secrecy,
  SignedResult,
  Threshold,
  TieRule,
  VoteProgress,
} from './generated/contract';
import type { LiveEvent } from './reducers';

export type {
  BallotAccepted,
  Marked,
  Question,
  QuestionEntry,
  QuestionSeen,
  QuestionsSeen,
  ResultSummary,
  SignedResult,
  VoteOutcome,
  VoteProgress,
};

/** The kinds of the meeting feed that change voting. */
export const VOTE_KINDS = [
  'question.added',
  'question.updated',
  'question.removed',
  'vote.opened',
  'vote.ballot_cast',
  'vote.participated',
  'vote.closed',
] as const;

const base = (meeting: Id) => `/api/meetings/${encodeURIComponent(meeting)}/questions`;
const one = (meeting: Id, q: Id) => `${base(meeting)}/${encodeURIComponent(q)}`;

/** What the secretary's form sends (unset rules take the body's defaults). */
export interface QuestionInput {
  id?: Id;
  item_id: Id;
  title: string;
  kind?: 'motion' | 'election';
  candidates?: { id?: Id; name: string }[];
  max_choices?: number;
  secrecy?: Secrecy;
  base?: Base;
  threshold?: Threshold;
  tie?: TieRule;
  changeable?: boolean;
  countdown_seconds?: number | null;
}

/** A hand count (paper fallback). */
export interface ManualInput {
  counts?: { approve: number; disapprove: number; abstain: number };
  candidate_votes?: Record<Id, number>;
  ballots?: number;
  present?: number;
  reason: string;
}

export const voteApi = {
  list: (meeting: Id) => getJson<QuestionsSeen>(base(meeting)),
  get: (meeting: Id, q: Id) => getJson<QuestionSeen>(one(meeting, q)),
  add: (meeting: Id, input: QuestionInput) => sendJson<QuestionSeen>('POST', base(meeting), input),
  update: (meeting: Id, q: Id, input: QuestionInput) => sendJson<QuestionSeen>('PUT', one(meeting, q), input),
  remove: (meeting: Id, q: Id) => sendJson<void>('DELETE', one(meeting, q)),
  open: (meeting: Id, q: Id) => sendJson<QuestionSeen>('POST', `${one(meeting, q)}/open`, {}),
  close: (meeting: Id, q: Id) => sendJson<QuestionSeen>('POST', `${one(meeting, q)}/close`, {}),
  manual: (meeting: Id, q: Id, input: ManualInput) => sendJson<QuestionSeen>('POST', `${one(meeting, q)}/manual`, input),
  result: (meeting: Id, q: Id) => getJson<SignedResult>(`${one(meeting, q)}/result`),
  /** The ZIP of the result, its certificates and a PDF, to check with `phonghop verify-vote`. */
  evidenceUrl: (meeting: Id, q: Id) => `${one(meeting, q)}/evidence.zip`,
  ballot: (meeting: Id, q: Id, body: { ballot_id?: Id; receipt?: string; mark: Marked; signature: string }) =>
    sendJson<BallotAccepted>('POST', `${one(meeting, q)}/ballots`, body),
};

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** A fresh question from `question.added` (a draft nobody has voted on). */
function draft(entry: QuestionEntry, ord: number): Question {
  return {
    question: entry,
    ord,
    status: 'draft',
    nonce: null,
    electorate: null,
    opened_at: null,
    closes_at: null,
    cast: 0,
    closed_at: null,
    outcome: null,
    manual: false,
  };
}

function replace(qs: QuestionsSeen, id: Id, f: (q: QuestionSeen) => QuestionSeen): QuestionsSeen {
  return { ...qs, questions: qs.questions.map((q) => (q.question.question.id === id ? f(q) : q)) };
}

/**
 * Applies one feed event to the questions a screen holds. `person`: the tablet's person (for
 * its own ballot), else null. Returns null for an event it does not know how to apply, so the
 * screen reads the list again.
 */
export function applyVote(qs: QuestionsSeen, ev: LiveEvent, person: Id | null): QuestionsSeen | null {
  const b = (ev.body ?? {}) as Record<string, unknown>;
  const qid = str(b.question_id) ?? str((b.question as { id?: unknown } | undefined)?.id);
  const known = qid !== null && qs.questions.some((q) => q.question.question.id === qid);
  switch (ev.kind) {
    case 'question.added': {
      const entry = b.question as QuestionEntry | undefined;
      if (!entry) return null;
      if (known) return qs;
      return { ...qs, questions: [...qs.questions, { question: draft(entry, ev.seq), mine: null, may_vote: false }] };
    }
    case 'question.updated': {
      const entry = b.question as QuestionEntry | undefined;
      if (!entry || !known) return null;
      return replace(qs, entry.id, (q) => ({ ...q, question: { ...q.question, question: entry } }));
    }
    case 'question.removed':
      return qid ? { ...qs, questions: qs.questions.filter((q) => q.question.question.id !== qid) } : null;
    case 'vote.opened': {
      const entry = b.question as QuestionEntry | undefined;
      if (!qid || !entry) return null;
      const opened = (q: Question): Question => ({
        ...q,
        question: entry,
        status: 'open',
        nonce: str(b.nonce),
        electorate: (b.electorate as Electorate | undefined) ?? null,
        opened_at: ev.at,
        closes_at: str(b.closes_at),
      });
      // A delegate's list had no draft of it: it appears now. Whether this caller may vote
      // depends on their attendance, which the list knows; read it again.
      if (!known) return null;
      return replace(qs, qid, (q) => ({ ...q, question: opened(q.question) }));
    }
    case 'vote.ballot_cast': {
      const ballot = b.ballot as { id: Id; person_id: Id; mark: Marked } | undefined;
      if (!qid || !ballot || !known) return null;
      if (ballot.person_id !== person) return qs;
      return replace(qs, qid, (q) => ({ ...q, mine: { type: 'named', ballot_id: ballot.id, mark: ballot.mark } }));
    }
    case 'vote.participated': {
      const p = b.participation as { person_id: Id } | undefined;
      if (!qid || !p || !known) return null;
      if (p.person_id !== person) return qs;
      return replace(qs, qid, (q) => ({ ...q, mine: { type: 'secret' } }));
    }
    case 'vote.closed': {
      // Staff get the whole signed record; the room a summary. Both carry the outcome.
      const whole = b.result as SignedResult | undefined;
      const summary = b as unknown as Partial<ResultSummary>;
      const outcome = whole?.record.outcome ?? summary.outcome;
      const method = whole?.record.method ?? summary.method;
      const closedAt = whole?.record.closed_at ?? summary.closed_at;
      const entry = whole?.record.question ?? summary.question;
      if (!qid || !outcome || !method || !known) return null;
      return replace(qs, qid, (q) => ({
        ...q,
        may_vote: false,
        question: {
          ...q.question,
          question: entry ?? q.question.question,
          status: 'closed',
          outcome,
          manual: method.type === 'manual',
          closed_at: closedAt ?? ev.at,
          cast: q.question.status === 'open' ? Math.max(q.question.cast, castOf(outcome)) : q.question.cast,
        },
      }));
    }
    default:
      return qs;
  }
}

/** Applies the coalesced counter (it only ever moves forward). */
export function applyProgress(qs: QuestionsSeen, p: VoteProgress): QuestionsSeen {
  return replace(qs, p.question_id, (q) =>
    q.question.status === 'open' && p.cast > q.question.cast ? { ...q, question: { ...q.question, cast: p.cast } } : q,
  );
}

/** The open question, if any (one at a time per meeting). */
export function openQuestion(qs: QuestionsSeen | null): QuestionSeen | null {
  return qs?.questions.find((q) => q.question.status === 'open') ?? null;
}

/** Ballots counted in an outcome. */
export function castOf(o: VoteOutcome): number {
  return o.type === 'motion' ? o.counts.approve + o.counts.disapprove + o.counts.abstain : o.ballots;
}

// —— Words ——

export const CHOICE_VI: Record<Choice, string> = {
  approve: 'Tán thành',
  disapprove: 'Không tán thành',
  abstain: 'Không biểu quyết',
};

export const BASE_VI: Record<Base, string> = {
  all_members: 'tổng số thành viên',
  present: 'số thành viên có mặt',
  cast: 'số phiếu đã bỏ',
};

export const SECRECY_VI: Record<Secrecy, string> = { named: 'Biểu quyết công khai', secret: 'Bỏ phiếu kín' };

export const TIE_VI: Record<TieRule, string> = {
  chair_decides: 'Khi số phiếu tán thành và không tán thành bằng nhau: theo ý kiến đã biểu quyết của chủ tọa',
  threshold_only: 'Khi bằng nhau: chỉ tính theo tỷ lệ',
};

/** The legal label of the tablets' signatures (Law 20/2023/QH15): never "chữ ký số". */
export const SIGNATURE_LABEL = 'Chữ ký điện tử chuyên dùng của hệ thống phòng họp';

export const PASSED_VI = 'ĐƯỢC THÔNG QUA';
export const FAILED_VI = 'KHÔNG ĐƯỢC THÔNG QUA';
export const MANUAL_VI = 'Kiểm phiếu thủ công';

/** "quá 1/2", "ít nhất 2/3". */
export function thresholdVi(t: Threshold): string {
  const frac = `${t.numerator}/${t.denominator}`;
  return t.comparison === 'more_than' ? `quá ${frac}` : `ít nhất ${frac}`;
}

/** A mark in words, with the candidates' names for an election. */
export function markVi(m: Marked, q?: QuestionEntry): string {
  if ('choice' in m) return CHOICE_VI[m.choice];
  if (m.candidates.length === 0) return 'Phiếu trắng (không chọn ai)';
  const names = m.candidates.map((id) => q?.candidates.find((c) => c.id === id)?.name ?? id);
  return names.join(', ');
}

/** The headline of an outcome: passed or not; for an election, who was elected. */
export function outcomeVi(o: VoteOutcome): string {
  if (o.type === 'motion') return o.passed ? PASSED_VI : FAILED_VI;
  const elected = o.candidates.filter((c) => c.elected).map((c) => c.name);
  if (elected.length === 0) return o.tie_at_last_seat ? 'Không ai trúng cử: hòa phiếu, cần bầu lại' : 'Không ai trúng cử';
  return `Trúng cử: ${elected.join(', ')}${o.tie_at_last_seat ? ' (hòa phiếu ở vị trí cuối, cần bầu lại)' : ''}`;
}

/** "Cần 5/9 (quá 1/2 tổng số thành viên)". */
export function ruleVi(o: VoteOutcome): string {
  return `Cần ${o.required}/${o.base_size} phiếu tán thành (${thresholdVi(o.threshold)} ${BASE_VI[o.base]})`;
}

/** How the result was obtained, for a label next to it. */
export function methodVi(m: Method): string | null {
  return m.type === 'manual' ? `${MANUAL_VI}: ${m.reason}` : null;
}

/** Whole seconds left until `closesAt` by the box's clock (`boxNow`), never below 0. */
export function secondsLeft(closesAt: string | null, boxNow: number): number | null {
  if (!closesAt) return null;
  const t = Date.parse(closesAt);
  return Number.isFinite(t) ? Math.max(0, Math.ceil((t - boxNow) / 1000)) : null;
}
