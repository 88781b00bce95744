package protocol

import (
	"encoding/json"
	"unicode/utf8"
)

// Supervision events on /im/agent (docs/protocol.md, "Supervision").
const (
	// C→S
	EventMonitor   = "monitor"   // MonitorRequest: start or stop the live monitor
	EventWatch     = "watch"     // WatchRequest: open or close one conversation
	EventIntervene = "intervene" // SendMessage: a supervisor writes to the visitor
	EventWhisper   = "whisper"   // WhisperRequest; S→C Note to the chat's agent
	// S→C
	EventAgentStatus     = "agentstatus"      // AgentStatusChange: my status changed
	EventMonitorSnapshot = "monitor_snapshot" // MonitorSnapshot, after `monitor {on}`
	EventMonitorQueue    = "monitor_queue"    // MonitorQueue, the scope's queue
	EventMonitorAgents   = "monitor_agents"   // MonitorAgents, agents that changed
	EventAuditHistory    = "audit_history"    // AuditHistory, after `watch {on}`
	// The mirrors of a chat's events (cskefu's audit_*), to supervisors
	// whose scope covers it, never to its own agent.
	EventAuditNew      = "audit_new"      // MonitorChat: assigned, transferred or taken over
	EventAuditTransOut = "audit_transout" // SessionSummary: left this agent
	EventAuditEnd      = "audit_end"      // SessionSummary with endby
	EventAuditMessage  = "audit_message"  // ChatMessage
	EventAuditRead     = "audit_read"     // ReadMark: the agent read up to
	EventAuditRating   = "audit_rating"   // Rating
	EventAuditWriting  = "audit_writing"  // Draft, only to sockets watching the chat
	EventAuditWhisper  = "audit_whisper"  // Note
)

// MonitorRoom is where a tenant's mirrors are published; each gateway hands
// them to its supervisor sockets whose scope covers them (gateway/monitor).
func MonitorRoom(orgi string) string { return "mon:" + orgi }

// Mirror is the broker envelope of a supervision event: the scope facts of
// the chat it belongs to, then the payload as clients get it. Agents and
// queue lists carry their scope per row and leave Skill and AgentNo empty.
type Mirror struct {
	Skill   string          `json:"s,omitempty"`
	AgentNo string          `json:"a,omitempty"`
	Session string          `json:"i,omitempty"`
	Data    json.RawMessage `json:"d"`
}

// Session event kinds (SessionEventView.kind; the archive's transcript).
const (
	SessionQueued      = "queued"
	SessionAssigned    = "assigned"
	SessionTransferred = "transferred"
	SessionRequeued    = "requeued" // back in the queue: its agent went offline, or a transfer found no room
	SessionTakenOver   = "takeover"
	SessionMoved       = "moved"    // a supervisor moved it to another group while it waited
	SessionRerouted    = "rerouted" // a supervisor dropped its group and agent binding
	SessionJoined      = "joined"   // a supervisor wrote into it for the first time
	SessionEnded       = "ended"
	SessionRated       = "rated"
	SessionReviewed    = "reviewed"
)

// SessionEventView is one event of a conversation.
type SessionEventView struct {
	Kind       string `json:"kind"`
	Actor      string `json:"actor,omitempty"`
	ActorName  string `json:"actorname,omitempty"`
	Target     string `json:"target,omitempty"`
	TargetName string `json:"targetname,omitempty"`
	Detail     string `json:"detail,omitempty"`
	CreateTime Time   `json:"createtime"`
}

// MonitorRequest is `monitor`.
type MonitorRequest struct {
	On bool `json:"on"`
}

// WatchRequest is `watch`.
type WatchRequest struct {
	AgentServiceID string `json:"agentserviceid"`
	On             bool   `json:"on"`
}

// Validate checks the id.
func (w WatchRequest) Validate() error {
	if w.AgentServiceID == "" || len(w.AgentServiceID) > 32 {
		return Errorf(CodeBadRequest, "agentserviceid is required")
	}
	return nil
}

// WhisperRequest is `whisper`: a note to the chat's agent.
type WhisperRequest struct {
	AgentServiceID string `json:"agentserviceid"`
	Message        string `json:"message"`
	ClientID       string `json:"clientid"`
}

// MaxWhisper bounds a whisper's text, in characters.
const MaxWhisper = 2000

// Validate checks sizes.
func (w WhisperRequest) Validate() error {
	switch {
	case w.AgentServiceID == "" || len(w.AgentServiceID) > 32:
		return Errorf(CodeBadRequest, "agentserviceid is required")
	case w.Message == "":
		return Errorf(CodeBadRequest, "message is empty")
	case utf8.RuneCountInString(w.Message) > MaxWhisper:
		return Errorf(CodeTooLarge, "message is longer than %d characters", MaxWhisper)
	case w.ClientID == "" || len(w.ClientID) > MaxClientIDLen:
		return Errorf(CodeBadRequest, "clientid is required, at most %d bytes", MaxClientIDLen)
	}
	return nil
}

// Note is a whisper as its agent and supervisors see it.
type Note struct {
	ID             string `json:"id"`
	ClientID       string `json:"clientid"`
	AgentServiceID string `json:"agentserviceid"`
	UserID         string `json:"userid"` // the supervisor
	NickName       string `json:"nickName"`
	Message        string `json:"message"`
	CreateTime     Time   `json:"createtime"`
}

// NoteAck acknowledges a whisper.
type NoteAck struct {
	OK         bool   `json:"ok"`
	ID         string `json:"id"`
	CreateTime Time   `json:"createtime"`
}

// AgentStatusChange tells an agent's sockets its status changed (by itself
// in another tab, by a supervisor, or by the server).
type AgentStatusChange struct {
	Status string `json:"status"`
	Busy   bool   `json:"busy"`
	By     string `json:"by,omitempty"` // who changed it, when not the agent
	ByName string `json:"byname,omitempty"`
}

// ReadMark is how far an agent has read a chat.
type ReadMark struct {
	AgentServiceID string `json:"agentserviceid"`
	ReadSeq        int64  `json:"readseq"`
	Unread         int    `json:"unread"`
}

// Rating is a visitor's rating of a chat.
type Rating struct {
	AgentServiceID string `json:"agentserviceid"`
	Level          int    `json:"level"`
	Comment        string `json:"comment"`
}

// Draft is a live draft in a watched chat.
type Draft struct {
	AgentServiceID string `json:"agentserviceid"`
	From           string `json:"from"` // "visitor"
	Message        string `json:"message"`
}

// EndedChat is `audit_end`.
type EndedChat struct {
	SessionSummary
	EndBy   string `json:"endby"`
	EndTime Time   `json:"endtime"`
}

// MonitorChat is one conversation in service in the monitor.
type MonitorChat struct {
	SessionSummary
	ServiceTime Time   `json:"servicetime"`
	AgentName   string `json:"agentname"`
	// At the snapshot: how far the agent has read, its unread visitor
	// messages, and the latest message. Mirrors then carry the changes.
	ReadSeq int64        `json:"readseq"`
	Unread  int          `json:"unread"`
	LastSeq int64        `json:"lastseq"`
	Last    *ChatMessage `json:"last,omitempty"`
	Rating  int          `json:"rating,omitempty"`
}

// QueueEntry is one waiting visitor.
type QueueEntry struct {
	SessionSummary
	Agent   string `json:"agent,omitempty"` // the agent asked for
	Num     int    `json:"num"`             // position within its group
	Since   Time   `json:"since"`           // when this wait began
	Waiting int    `json:"waiting"`         // seconds
}

// MonitorQueue is a tenant's (or, as sent to a supervisor, a scope's) queue:
// how many wait per group ("" = any agent) and the first MaxQueueShown of
// each group.
type MonitorQueue struct {
	Groups map[string]int `json:"groups"`
	Queue  []QueueEntry   `json:"queue"`
}

// MaxQueueShown bounds the entries per group the monitor is sent.
const MaxQueueShown = 200

// MonitorAgent is one agent in the monitor.
type MonitorAgent struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Nickname string   `json:"nickname"`
	Roles    []string `json:"roles"`
	Status   string   `json:"status"`
	Busy     bool     `json:"busy"`
	Users    int      `json:"users"`
	MaxUser  int      `json:"maxuser"`
	Skills   []string `json:"skills"`
	Since    Time     `json:"since"` // in the current status since
	Sockets  int      `json:"sockets"`
}

// MonitorAgents is `monitor_agents`: the agents whose row changed.
type MonitorAgents struct {
	Agents []MonitorAgent `json:"agents"`
}

// CounterSample is one minute of a tenant's counters.
type CounterSample struct {
	At      Time `json:"at"`
	Agents  int  `json:"agents"`
	Busy    int  `json:"busy"`
	Users   int  `json:"users"`
	InQueue int  `json:"inquene"`
}

// SkillRef names a skill group in the monitor's filters.
type SkillRef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
}

// MonitorSnapshot is everything the monitor shows, at one moment; mirrors
// follow it in order.
type MonitorSnapshot struct {
	Rights   []string        `json:"rights"`
	Tenant   bool            `json:"tenant"` // the whole tenant is in scope
	Skills   []SkillRef      `json:"skills"` // the groups in scope
	Chats    []MonitorChat   `json:"chats"`
	Queue    MonitorQueue    `json:"queue"`
	Agents   []MonitorAgent  `json:"agents"`
	Counters AgentCounters   `json:"counters"`
	History  []CounterSample `json:"history"` // the last hour, a sample a minute
}

// MonitorPicture is the routing service's answer to a monitor snapshot
// command: what only it knows (presence, positions), for the whole tenant.
type MonitorPicture struct {
	OK       bool           `json:"ok"`
	Error    *Error         `json:"error,omitempty"`
	Agents   []MonitorAgent `json:"agents"`
	Queue    MonitorQueue   `json:"queue"`
	Counters AgentCounters  `json:"counters"`
}

// AuditHistory opens a watched conversation: its latest messages and its
// whispers; live mirrors follow without a gap or a repeat.
type AuditHistory struct {
	AgentServiceID string        `json:"agentserviceid"`
	Messages       []ChatMessage `json:"messages"`
	Notes          []Note        `json:"notes"`
}
