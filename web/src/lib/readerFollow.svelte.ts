// "Follow me" in the reader: the meeting's live view (`GET /live`, then its feed with each event
// applied) says which document and page the chair shows. A delegate's tablet that follows opens
// that document at that page; one tap leaves, one tap comes back. Staff readers do nothing here.
import { knownAnnotations } from './annotations.svelte';
import { delegate } from './delegate.svelte';
import { DelegateLive, followLeft, followTarget, isParticipant, setFollowLeft, type FollowTarget } from './delegateLive.svelte';
import { MeetingFeed } from './live.svelte';
import { remainingSeconds } from './liveReducer';
import { VoteBooth } from './voteBooth.svelte';

export class ReaderFollow {
  readonly meetingId: string;
  readonly live: DelegateLive;
  /** Voting goes on while the delegate reads: the ballot shows over the document. */
  readonly booth: VoteBooth;
  /** Taps on "Theo chủ tọa": each one jumps again, even to the same page. */
  rejoined = $state(0);
  #feed: MeetingFeed | null = null;
  #stopped = false;
  #stopClock: (() => void) | null = null;
  #stopBooth: (() => void) | null = null;

  constructor(meetingId: string) {
    this.meetingId = meetingId;
    this.live = new DelegateLive(meetingId);
    this.booth = new VoteBooth(meetingId);
  }

  /** Reads the view; a delegate's or guest's tablet then follows the meeting's feed. */
  start(): void {
    this.#stopClock = this.live.tick();
    void (async () => {
      try {
        await this.live.load();
      } catch {
        return; // Not in this meeting's room, or unreachable: nothing to follow.
      }
      if (this.#stopped || !isParticipant(this.live.view)) return;
      void delegate.load().then(() => {
        if (delegate.person) this.booth.personId = delegate.person.id;
      });
      this.#stopBooth = this.booth.start();
      const loadVotes = (): Promise<void> => Promise.all([this.booth.loadMeeting(), this.booth.load()]).then(() => undefined, () => undefined);
      this.#feed = new MeetingFeed(this.meetingId, {
        load: () => Promise.all([this.live.load(), loadVotes()]).then(() => undefined),
        apply: (ev) => {
          // The reader's marks (annotations.svelte.ts) ride on the same feed.
          if (knownAnnotations(this.meetingId)?.apply(ev)) return 'applied';
          const l = this.live.apply(ev);
          if (l === 'refetch') return 'refetch';
          return this.booth.apply(ev) === 'applied' ? 'applied' : l;
        },
        progress: (p) => this.booth.progress(p),
      });
      void this.#feed.start();
    })();
  }

  stop(): void {
    this.#stopped = true;
    this.#feed?.stop();
    this.#stopClock?.();
    this.#stopBooth?.();
  }

  get participant(): boolean {
    return isParticipant(this.live.view);
  }

  /** What the chair shows, if this tablet may see it. */
  get target(): FollowTarget | null {
    return this.participant ? followTarget(this.live.view) : null;
  }

  /** The chair shows a document this person may not see. */
  get hidden(): boolean {
    return this.participant && this.live.view?.follow?.hidden === true;
  }

  get following(): boolean {
    return this.target !== null && !followLeft(this.meetingId);
  }

  leave(): void {
    setFollowLeft(this.meetingId, true);
  }

  rejoin(): void {
    setFollowLeft(this.meetingId, false);
    this.rejoined += 1;
  }

  /** Seconds left of my own speech (negative: over time), or null when I do not have the floor. */
  get myRemaining(): number | null {
    const s = this.live.view?.speaking;
    const me = delegate.person?.id;
    if (!s || !me || s.person_id !== me) return null;
    return remainingSeconds(s, this.live.now);
  }
}
