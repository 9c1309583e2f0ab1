// Voting on the delegate's tablet: the meeting's questions (GET …/questions, then the feed's vote
// events and the coalesced counter), whether this tablet may vote now, and its ballots. A ballot
// is signed and stored (ballot.ts) before it is sent, then sent again with the same id or receipt
// until the box answers 200, while the vote is open and the tablet is online. Nothing here says a
// ballot was recorded before the box said so; offline, nothing is accepted, and the stored ballot
// waits for the link to come back.
import { ApiError, getJson } from './api';
import { ballotsOf, makeBallot, saveBallot, type StoredBallot } from './ballot';
import { retryable } from './delegateLive.svelte';
import type { MeetingRole, RoomInfo } from './types';
import type { Applied } from './live.svelte';
import { BoxClock } from './liveReducer';
import { delegateApi } from './delegate.svelte';
import type { LiveEvent } from './reducers';
import { applyProgress, applyVote, openQuestion, voteApi, type Marked, type Question, type QuestionEntry, type QuestionSeen, type QuestionsSeen, type VoteProgress } from './votes';

/** Where sending this tablet's ballot stands (for the words on the ballot). */
export type SendState =
  /** First try under way. */
  | 'sending'
  /** A try failed (the link, the box busy): trying again. */
  | 'retrying'
  /** The tablet is offline: nothing is sent until the Wi-Fi is back. */
  | 'offline'
  /** The box refused it (`error` says why). */
  | 'refused';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** One meeting's voting on one tablet; `load`, `apply` and `progress` plug into a MeetingFeed. */
export class VoteBooth {
  readonly meetingId: string;
  questions = $state.raw<QuestionsSeen | null>(null);
  /** This tablet's stored ballots in the meeting, by question id. */
  ballots = $state.raw<Record<string, StoredBallot>>({});
  /** Sending, by question id (absent: nothing under way). */
  sendState = $state<Record<string, SendState>>({});
  /** The box's refusal, by question id. */
  refusal = $state<Record<string, ApiError['body']>>({});
  /** The person's role in the meeting and whether they are checked in (a member votes only then). */
  role = $state<MeetingRole | null>(null);
  present = $state(false);
  personId = $state<string | null>(null);
  online = $state(typeof navigator === 'undefined' ? true : navigator.onLine);
  /** The box's time (ms), ticking every quarter second, for the countdown. */
  now = $state(Date.now());
  /** Ballots the delegate put off ("Để sau"): the banner offers them again. */
  deferred = $state<Record<string, true>>({});
  /** Results the delegate has read (closed the pop-up), and the "recorded" notes closed. */
  seen = $state<Record<string, true>>({});
  /** A hand count's reason, by question id (from `vote.closed`, or the record after a load). */
  reasons = $state<Record<string, string>>({});
  /** Changeable named votes whose recorded ballot the delegate is replacing ("Đổi lựa chọn"). */
  changing = $state<Record<string, true>>({});
  /** Questions that closed while this page was open: their result pops up. */
  closedHere = $state<Record<string, true>>({});

  readonly clock = new BoxClock();
  #node: string | null = null;
  #loops = new Set<string>();
  /** Questions whose ballot is being signed and stored right now. */
  #casting = new Set<string>();
  /** Sending loops waiting out a back-off; woken early by the Wi-Fi coming back. */
  #waiting = new Set<() => void>();
  #stopped = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** A second list read asked for while one is under way collapses into one more. */
  #listing: Promise<void> | null = null;

  constructor(meetingId: string) {
    this.meetingId = meetingId;
  }

  /** Starts the clock and the online/offline watch; returns the stop. */
  start(): () => void {
    this.#stopped = false;
    const onLine = (): void => {
      this.online = navigator.onLine;
      if (this.online) this.#nudge();
      else for (const [qid, s] of Object.entries(this.sendState)) if (s !== 'refused') this.sendState[qid] = 'offline';
    };
    window.addEventListener('online', onLine);
    window.addEventListener('offline', onLine);
    this.now = this.clock.now();
    this.#timer = setInterval(() => (this.now = this.clock.now()), 250);
    return () => {
      this.#stopped = true;
      window.removeEventListener('online', onLine);
      window.removeEventListener('offline', onLine);
      clearInterval(this.#timer);
      this.#nudge();
    };
  }

  /** The person's role and attendance from the meeting the page holds. */
  setMeeting(role: MeetingRole, status: string | null, personId: string | null): void {
    this.role = role;
    this.present = status === 'present' || status === 'late';
    if (personId) this.personId = personId;
  }

  /** Whether this person votes in this meeting at all (a member: the body's delegates and the chair). */
  get member(): boolean {
    return this.role === 'delegate' || this.role === 'chair';
  }

  /** The open question, if any. */
  get open(): QuestionSeen | null {
    return openQuestion(this.questions);
  }

  /** Whether this tablet may vote on `q` now: open, a member, checked in, no ballot yet. */
  mayVote(q: QuestionSeen): boolean {
    const qid = q.question.question.id;
    if (q.question.status !== 'open') return false;
    if (q.mine && !(q.question.question.changeable && this.changing[qid])) return false;
    if (this.ballots[qid]) return false;
    // The page's own view of role and attendance follows check-ins live; the list's flag is
    // the box's view when it was read.
    return this.role !== null ? this.member && this.present : q.may_vote;
  }

  manualReason(qid: string): string | null {
    return this.reasons[qid] ?? null;
  }

  /** The closed questions, oldest first. */
  get closed(): QuestionSeen[] {
    return (this.questions?.questions ?? []).filter((q) => q.question.status === 'closed');
  }

  // ---- reading -------------------------------------------------------------------------------

  /** Reads the questions, this tablet's stored ballots and the box's node id; resumes sending. */
  async load(): Promise<void> {
    const [, stored] = await Promise.all([this.#list(), ballotsOf(this.meetingId).catch(() => [] as StoredBallot[])]);
    if (this.#node === null) {
      try {
        this.#node = (await getJson<RoomInfo>('/api/room')).node_id;
      } catch {
        // Read again when a ballot is signed.
      }
    }
    const byQ: Record<string, StoredBallot> = {};
    for (const b of stored) byQ[b.questionId] = b;
    this.ballots = { ...byQ, ...this.#newerThan(byQ) };
    for (const b of Object.values(this.ballots)) void this.#reconcile(b);
    // A hand count's reason is in its record only.
    for (const q of this.closed) {
      const id = q.question.question.id;
      if (q.question.manual && !this.reasons[id]) {
        void voteApi
          .result(this.meetingId, id)
          .then((r) => {
            if (r.record.method.type === 'manual') this.reasons[id] = r.record.method.reason;
          })
          .catch(() => undefined);
      }
    }
  }

  /** Ballots made while the stored ones were read (a tap during a reload) win. */
  #newerThan(stored: Record<string, StoredBallot>): Record<string, StoredBallot> {
    const out: Record<string, StoredBallot> = {};
    for (const [qid, b] of Object.entries(this.ballots)) if (!stored[qid] || stored[qid].createdAt < b.createdAt) out[qid] = b;
    return out;
  }

  /** Reads the meeting when the page does not (the reader): role and attendance. */
  async loadMeeting(): Promise<void> {
    const m = await delegateApi.meeting(this.meetingId);
    this.setMeeting(m.my_role, m.my_attendance?.status ?? null, null);
  }

  #list(): Promise<void> {
    if (this.#listing) return this.#listing;
    this.#listing = (async () => {
      try {
        const sent = Date.now();
        const qs = await voteApi.list(this.meetingId);
        this.clock.set(qs.now, sent, Date.now());
        this.now = this.clock.now();
        this.questions = qs;
      } finally {
        this.#listing = null;
      }
    })();
    return this.#listing;
  }

  /** A feed event. Never asks the whole screen to reload: a question it lacks is read here. */
  apply(ev: LiveEvent): Applied {
    const b = (ev.body ?? {}) as Record<string, unknown>;
    if (str(b.meeting_id) !== this.meetingId) return 'ignored';
    if (ev.kind === 'attendance.marked' && this.personId && str(b.person_id) === this.personId) {
      const s = str(b.status);
      this.present = s === 'present' || s === 'late';
      return 'applied';
    }
    if (!ev.kind.startsWith('vote.') && !ev.kind.startsWith('question.')) return 'ignored';
    const qs = this.questions;
    const next = qs ? applyVote(qs, ev, this.personId) : null;
    if (next) {
      this.questions = next;
    } else if (ev.kind === 'vote.opened' && qs) {
      // A delegate never saw the draft: the ballot shows from the event at once, and the list
      // (whether the box counts this tablet as a voter) is read behind it.
      const entry = b.question as QuestionEntry | undefined;
      if (entry) this.questions = { ...qs, questions: [...qs.questions, { question: opened(entry, ev, b), mine: null, may_vote: false }] };
      // Read the list only when this page does not know the person's role and attendance: a
      // thousand tablets all reading it the moment a vote opens would compete with their
      // ballots for the box.
      if (!entry || this.role === null) void this.#list().catch(() => undefined);
    } else {
      void this.#list().catch(() => undefined);
    }
    const qid = str(b.question_id);
    if (ev.kind === 'vote.closed' && qid) {
      this.closedHere[qid] = true;
      const method = ((b.result as { record?: { method?: unknown } } | undefined)?.record?.method ?? b.method) as { type?: string; reason?: string } | undefined;
      if (method?.type === 'manual' && typeof method.reason === 'string') this.reasons[qid] = method.reason;
      const mine = this.ballots[qid];
      // A loop that is sending it finds the vote closed when woken; a refused one is settled here.
      if (mine && mine.state === 'pending') {
        if (this.#loops.has(qid)) this.#nudge();
        else void this.#settleClosed(mine);
      }
    }
    if (ev.kind === 'vote.opened' && qid) this.#nudge();
    return 'applied';
  }

  progress(p: VoteProgress): void {
    if (p.meeting_id === this.meetingId && this.questions) this.questions = applyProgress(this.questions, p);
  }

  #question(qid: string): Question | null {
    return this.questions?.questions.find((q) => q.question.question.id === qid)?.question ?? null;
  }

  // ---- voting --------------------------------------------------------------------------------

  /**
   * "Gửi phiếu": signs and stores the ballot, then sends it until the box answers. Resolves when
   * it is stored (sending goes on behind).
   */
  async cast(q: QuestionSeen, mark: Marked): Promise<void> {
    const qid = q.question.question.id;
    if (this.ballots[qid] || this.#casting.has(qid)) return; // a double tap: one ballot
    this.#casting.add(qid);
    try {
      await this.#cast(q, qid, mark);
    } finally {
      this.#casting.delete(qid);
    }
  }

  async #cast(q: QuestionSeen, qid: string, mark: Marked): Promise<void> {
    const nonce = q.question.nonce;
    if (!this.personId || !nonce) throw new ApiError(0, { code: 'vote.not_ready' });
    if (this.#node === null) this.#node = (await getJson<RoomInfo>('/api/room')).node_id;
    const b = await makeBallot({
      node: this.#node,
      meetingId: this.meetingId,
      questionId: qid,
      personId: this.personId,
      secrecy: q.question.question.secrecy,
      nonce,
      mark,
    });
    this.ballots = { ...this.ballots, [qid]: b };
    delete this.changing[qid];
    void this.#send(b);
  }

  /** After a refusal that can be mended (checked in since): the same stored ballot again. */
  resend(qid: string): void {
    const b = this.ballots[qid];
    if (b && b.state === 'pending') {
      delete this.refusal[qid];
      void this.#send(b);
    }
  }

  /**
   * A changeable named vote: choose again. The recorded ballot stays counted (and stored) until
   * the new one, with a new id, is accepted in its place.
   */
  change(qid: string): void {
    const q = this.#question(qid);
    const b = this.ballots[qid];
    if (!q || q.status !== 'open' || !q.question.changeable || b?.state !== 'accepted') return;
    const next = { ...this.ballots };
    delete next[qid];
    this.ballots = next;
    this.changing[qid] = true;
    delete this.seen[`ack:${qid}`];
  }

  /** A refused ballot is dropped so the delegate can choose and send a new one. */
  async discard(qid: string): Promise<void> {
    const b = this.ballots[qid];
    if (!b) return;
    const next = { ...this.ballots };
    delete next[qid];
    this.ballots = next;
    delete this.refusal[qid];
    delete this.sendState[qid];
    await saveBallot({ ...b, state: 'unsent' }).catch(() => undefined);
  }

  async #store(b: StoredBallot): Promise<void> {
    this.ballots = { ...this.ballots, [b.questionId]: b };
    await saveBallot(b).catch(() => undefined);
  }

  /** What a stored ballot means after a (re)load: sent, still to send, or too late. */
  async #reconcile(b: StoredBallot): Promise<void> {
    const q = this.questions?.questions.find((x) => x.question.question.id === b.questionId);
    if (!q) return;
    if (b.state === 'pending' && q.mine && (q.mine.type === 'secret' || q.mine.ballot_id === b.ballotId)) {
      // The box holds it (the answer was lost): its own list says so.
      await this.#store({ ...b, state: 'accepted' });
      return;
    }
    if (b.state !== 'pending') return;
    if (q.question.status === 'open') void this.#send(b);
    else if (q.question.status === 'closed') await this.#store({ ...b, state: 'unsent' });
  }

  /** The vote closed while this ballot was unanswered: ask the box whether it counted it. */
  async #settleClosed(b: StoredBallot): Promise<void> {
    for (let i = 0; i < 3; i++) {
      try {
        const q = await voteApi.get(this.meetingId, b.questionId);
        const counted = q.mine !== null && (q.mine.type === 'secret' || q.mine.ballot_id === b.ballotId);
        await this.#store({ ...b, state: counted ? 'accepted' : 'unsent' });
        delete this.sendState[b.questionId];
        return;
      } catch {
        await sleep(1000);
      }
    }
    // Unreachable: it was not sent as far as this tablet knows; a later load checks again.
    await this.#store({ ...b, state: 'unsent' });
    delete this.sendState[b.questionId];
  }

  /** Wakes every sending loop now (the Wi-Fi is back, a vote opened, the page closes). */
  #nudge(): void {
    const all = [...this.#waiting];
    this.#waiting.clear();
    for (const w of all) w();
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.#waiting.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#waiting.add(done);
    });
  }

  /** Sends `b` until the box answers, with back-off, while its question is open. */
  async #send(first: StoredBallot): Promise<void> {
    const qid = first.questionId;
    if (this.#loops.has(qid)) return;
    this.#loops.add(qid);
    let attempt = 0;
    try {
      for (;;) {
        if (this.#stopped) return;
        const b = this.ballots[qid] ?? first;
        if (b.state !== 'pending') return;
        const q = this.#question(qid);
        if (q && q.status === 'closed') {
          await this.#settleClosed(b);
          return;
        }
        if (!navigator.onLine) {
          // Never accepted offline: the ballot waits, stored, for the room's Wi-Fi.
          this.sendState[qid] = 'offline';
          await this.#pause(5_000);
          continue;
        }
        this.sendState[qid] = attempt === 0 ? 'sending' : 'retrying';
        try {
          const body = b.secrecy === 'secret' ? { receipt: b.receipt ?? '', mark: b.mark, signature: b.signature } : { ballot_id: b.ballotId ?? '', mark: b.mark, signature: b.signature };
          await voteApi.ballot(this.meetingId, qid, body);
          await this.#store({ ...b, state: 'accepted' });
          delete this.sendState[qid];
          delete this.refusal[qid];
          return;
        } catch (e) {
          if (retryable(e)) {
            attempt += 1;
            this.sendState[qid] = navigator.onLine ? 'retrying' : 'offline';
            const hinted = e instanceof ApiError && e.retryAfter !== null ? e.retryAfter * 1000 : 0;
            await this.#pause(Math.max(hinted, Math.min(5_000, 500 * 2 ** Math.min(attempt, 4))));
            continue;
          }
          const body = e instanceof ApiError ? e.body : { code: 'unknown' };
          if (body.code === 'vote.closed' || body.code === 'vote.not_open') {
            await this.#settleClosed(b);
            return;
          }
          this.refusal[qid] = body;
          this.sendState[qid] = 'refused';
          return;
        }
      }
    } finally {
      this.#loops.delete(qid);
    }
  }
}

/** A question as `vote.opened` describes it, for a list that never held its draft. */
function opened(entry: QuestionEntry, ev: LiveEvent, b: Record<string, unknown>): Question {
  return {
    question: entry,
    ord: ev.seq,
    status: 'open',
    nonce: str(b.nonce),
    electorate: (b.electorate as Question['electorate'] | undefined) ?? null,
    opened_at: ev.at,
    closes_at: str(b.closes_at),
    cast: 0,
    closed_at: null,
    outcome: null,
    manual: false,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
