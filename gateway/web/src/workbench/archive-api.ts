// The archive's wire types (docs/protocol.md, "The archive and quality review").

import type { ChatMessage, SessionSummary } from "../common";
import type { Review } from "./quality";

/** An ended conversation in a result list. */
export interface ArchiveItem extends SessionSummary {
  servicetime?: string;
  endtime?: string;
  endby?: string;
  agentname?: string;
  skillname?: string;
  rating?: number;
  ratingcomment?: string;
  tags?: string[];
  score?: number;
  messages?: number;
}

export interface ArchivePage {
  items: ArchiveItem[];
  next: string;
}

export interface EventView {
  kind: string;
  actor?: string;
  actorname?: string;
  target?: string;
  targetname?: string;
  detail?: string;
  createtime?: string;
}

export interface NoteView {
  id: string;
  userid?: string;
  nickName?: string;
  message: string;
  createtime?: string;
}

export interface Transcript {
  session: ArchiveItem;
  messages: ChatMessage[];
  truncated?: boolean;
  notes: NoteView[];
  events: EventView[];
  review?: Review;
}
