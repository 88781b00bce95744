package store

import "time"

// The models below are the schema. Column names follow UCKeFu where one
// exists (agentno, usession, ...). Every tenant-owned row carries Orgi.
// Changing a model means adding a migration in migrations.go.

// Tenant is an organisation (UCKeFu orgi).
type Tenant struct {
	ID       string `gorm:"primaryKey;size:32"`
	Name     string `gorm:"size:128;not null"`
	TimeZone string `gorm:"size:64;not null;default:'UTC'"`
	MaxUser  int    `gorm:"not null;default:0"` // 0: use the built-in default
	// Disabled refuses the tenant's logins and sockets (a platform admin's
	// switch); its data stays.
	Disabled  bool `gorm:"not null;default:false"`
	CreatedAt time.Time
}

// Site is a web channel (UCKeFu SNSAccount + CousultInvite): the appid a
// widget connects with.
type Site struct {
	AppID     string `gorm:"primaryKey;size:32;column:appid"`
	Orgi      string `gorm:"size:32;not null;index"`
	Name      string `gorm:"size:128;not null"`
	Origins   string `gorm:"type:text;not null"` // JSON array of allowed origins; "*" allows any
	Config    string `gorm:"type:text;not null"` // widget config JSON, opaque to the store
	TextLimit int    `gorm:"not null;default:0"` // 0: protocol.DefaultTextLimit
	Disabled  bool   `gorm:"not null;default:false"`
	// Skills are the skill groups the site's visitors may be routed to
	// (comma-separated ids); empty: the tenant's routing decides.
	Skills    string `gorm:"size:1024;not null;default:''"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Agent is a user of the workbench (UCKeFu User). Roles is a comma-separated
// list of protocol.Role* values.
type Agent struct {
	ID           string `gorm:"primaryKey;size:32"`
	Orgi         string `gorm:"size:32;not null;index"`
	Username     string `gorm:"size:64;not null;uniqueIndex"`
	PasswordHash string `gorm:"size:128;not null"`
	Nickname     string `gorm:"size:64;not null"`
	Roles        string `gorm:"size:128;not null"`
	MaxUser      int    `gorm:"not null;default:0"` // 0: inherit
	Disabled     bool   `gorm:"not null;default:false"`
	// DeletedAt marks an agent removed by an admin: the row stays so that
	// its conversations keep their agent's name, but it is gone from every
	// list and can never log in again.
	DeletedAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SkillGroup is a routing group (UCKeFu Organ with skill=true).
type SkillGroup struct {
	ID      string `gorm:"primaryKey;size:32"`
	Orgi    string `gorm:"size:32;not null;index"`
	Name    string `gorm:"size:64;not null"`
	MaxUser int    `gorm:"not null;default:0"`
	// ParentID makes the groups a tree (UCKeFu's organ tree): a supervisor
	// of a group also supervises the groups below it. Empty: a root.
	ParentID  string `gorm:"size:32;not null;default:''"`
	Disabled  bool   `gorm:"not null;default:false"`
	CreatedAt time.Time
}

// AgentSkill links agents and skill groups (many to many).
type AgentSkill struct {
	AgentID string `gorm:"primaryKey;size:32"`
	SkillID string `gorm:"primaryKey;size:32;index"`
}

// Token is an agent login. Only the SHA-256 of the bearer value is stored.
type Token struct {
	Hash      string    `gorm:"primaryKey;size:64"`
	AgentID   string    `gorm:"size:32;not null;index"`
	ExpiresAt time.Time `gorm:"not null;index"`
	CreatedAt time.Time
	// Where the login came from, for the user's list of signed-in sessions.
	IP        string `gorm:"size:64;not null;default:''"`
	UserAgent string `gorm:"size:255;not null;default:''"`
}

// Visitor is a server-issued visitor identity on one site.
type Visitor struct {
	AppID     string `gorm:"primaryKey;size:32;column:appid"`
	UserID    string `gorm:"primaryKey;size:64;column:userid"`
	Orgi      string `gorm:"size:32;not null"`
	Nickname  string `gorm:"size:64;not null"`
	CreatedAt time.Time
	LastSeen  time.Time
}

// Session is one service of one visitor (UCKeFu AgentService): created by
// `new`, queued, served, ended. LastSeq is the last allocated message seq.
type Session struct {
	ID      string `gorm:"primaryKey;size:32"`
	Orgi    string `gorm:"size:32;not null;index:idx_sessions_queue,priority:1;index:idx_sessions_agent,priority:1;index:idx_sessions_ended,priority:1;index:idx_sessions_agent_ended,priority:1"`
	AppID   string `gorm:"size:32;not null;column:appid;index:idx_sessions_visitor,priority:1"`
	UserID  string `gorm:"size:64;not null;column:userid;index:idx_sessions_visitor,priority:2"`
	AgentNo string `gorm:"size:32;not null;default:'';column:agentno;index:idx_sessions_agent,priority:3;index:idx_sessions_agentno,priority:1;index:idx_sessions_agent_ended,priority:2"`
	Skill   string `gorm:"size:32;not null;default:''"`
	// Agent is the agent the visitor asked for (UCKeFu's `agent` query),
	// served first when ready; AgentNo is who serves.
	Agent    string `gorm:"size:32;not null;default:'';column:agent"`
	Status   string `gorm:"size:16;not null;index:idx_sessions_queue,priority:2;index:idx_sessions_agent,priority:2;index:idx_sessions_agentno,priority:2"`
	Nickname string `gorm:"size:64;not null;default:''"`
	Name     string `gorm:"size:64;not null;default:''"`
	Phone    string `gorm:"size:32;not null;default:''"`
	Email    string `gorm:"size:128;not null;default:''"`
	Memo     string `gorm:"size:512;not null;default:''"`
	Title    string `gorm:"size:255;not null;default:''"`
	URL      string `gorm:"size:1024;not null;default:''"`
	Referrer string `gorm:"size:1024;not null;default:''"`
	OSName   string `gorm:"size:64;not null;default:'';column:osname"`
	Browser  string `gorm:"size:64;not null;default:''"`
	IP       string `gorm:"size:64;not null;default:''"`
	LastSeq  int64  `gorm:"not null;default:0"`
	// OpenKey is appid|userid while the session is open and NULL once it
	// ends: a unique index on it lets a visitor hold one open session only,
	// whichever nodes their sockets race through.
	OpenKey     *string   `gorm:"size:100;uniqueIndex:idx_sessions_open"`
	EndBy       string    `gorm:"size:16;not null;default:''"`
	CreatedAt   time.Time `gorm:"index:idx_sessions_queue,priority:3"` // enqueue time: FIFO order
	ServiceTime *time.Time
	// The archive lists a tenant's ended sessions by end time, and an
	// agent's own (every agent's view of it) by agent and end time.
	EndTime   *time.Time `gorm:"index:idx_sessions_ended,priority:2;index:idx_sessions_unarchived,priority:2;index:idx_sessions_agent_ended,priority:3"`
	UpdatedAt time.Time
	// Transfers (UCKeFu AgentService trans, transmemo, transtime).
	Trans     bool   `gorm:"not null;default:false"`
	TransMemo string `gorm:"size:512;not null;default:''"`
	TransTime *time.Time
	// What the timers act on: the last message of each side, and whether
	// the idle warning and the no-reply notice were sent since.
	LastVisitorAt *time.Time
	LastAgentAt   *time.Time
	IdleWarned    bool `gorm:"not null;default:false"`
	AgentReminded bool `gorm:"not null;default:false"`
	// The visitor's rating (UCKeFu satislevel, satiscomment, satistime).
	SatisLevel     int    `gorm:"not null;default:0"`
	SatisComment   string `gorm:"size:512;not null;default:''"`
	SatisTime      *time.Time
	ServiceSummary string `gorm:"type:text;column:summary"` // the agent's summary of the chat
	// Archived is set once an ended session's words are in the archive's
	// search index (archive_terms); the indexer looks for ended ones without.
	Archived bool `gorm:"not null;default:false;index:idx_sessions_unarchived,priority:1"`
}

// Message is a stored chat message (UCKeFu ChatMessage). PK gives a global
// order for paging across sessions; ID is the opaque id clients see.
type Message struct {
	PK           int64  `gorm:"primaryKey;autoIncrement;column:pk"`
	ID           string `gorm:"size:32;not null;uniqueIndex"`
	SessionID    string `gorm:"size:32;not null;column:agentserviceid;uniqueIndex:idx_messages_seq,priority:1;uniqueIndex:idx_messages_client,priority:1"`
	Seq          int64  `gorm:"not null;uniqueIndex:idx_messages_seq,priority:2"`
	ClientID     string `gorm:"size:64;not null;column:clientid;uniqueIndex:idx_messages_client,priority:2"`
	Orgi         string `gorm:"size:32;not null"`
	AppID        string `gorm:"size:32;not null;column:appid;index:idx_messages_visitor,priority:1"`
	USession     string `gorm:"size:64;not null;column:usession;index:idx_messages_visitor,priority:2"`
	Type         string `gorm:"size:16;not null"`
	MsgType      string `gorm:"size:16;not null;column:msgtype"`
	CallType     string `gorm:"size:16;not null;column:calltype"`
	Body         string `gorm:"type:text;not null;column:message"`
	AttachmentID string `gorm:"size:32;not null;default:'';column:attachmentid"`
	UserID       string `gorm:"size:64;not null;column:userid"` // sender
	Username     string `gorm:"size:64;not null;default:''"`
	Nickname     string `gorm:"size:64;not null;default:''"`
	ToUser       string `gorm:"size:64;not null;default:'';column:touser"`
	CreatedAt    time.Time
	// The attachment's facts, copied when an image or file is sent.
	Filename string `gorm:"size:255;not null;default:''"`
	Filesize int64  `gorm:"not null;default:0"`
	Mime     string `gorm:"size:100;not null;default:''"`
	URL      string `gorm:"size:255;not null;default:'';column:url"`
	// Intervened marks a message a supervisor wrote into the chat (UserID
	// and Nickname are the supervisor's; cskefu's intervented).
	Intervened bool `gorm:"not null;default:false"`
}

// AgentState is the routing service's record of an agent's status; the
// routing service is its only writer.
type AgentState struct {
	AgentID      string `gorm:"primaryKey;size:32"`
	Orgi         string `gorm:"size:32;not null;index"`
	Status       string `gorm:"size:16;not null"`
	Busy         bool   `gorm:"not null;default:false"`
	LastAssigned time.Time
	// StatusSince is when Status and Busy took their current values (the
	// start of the spell the status log will record).
	StatusSince *time.Time
	UpdatedAt   time.Time
}

// Setting is an installation-wide key/value (e.g. the generated visitor
// signing secret in single-binary mode).
type Setting struct {
	Key   string `gorm:"primaryKey;size:64;column:k"`
	Value string `gorm:"type:text;not null;column:v"`
}

// AgentStatusLog is one finished spell of an agent in one status (UCKeFu
// WorkMonitor): what attendance KPIs are computed from.
type AgentStatusLog struct {
	PK      int64     `gorm:"primaryKey;autoIncrement;column:pk"`
	AgentID string    `gorm:"size:32;not null;index:idx_status_log_agent,priority:2"`
	Orgi    string    `gorm:"size:32;not null;index:idx_status_log_agent,priority:1"`
	Status  string    `gorm:"size:16;not null"`
	Busy    bool      `gorm:"not null"`
	Since   time.Time `gorm:"not null;index:idx_status_log_agent,priority:3"`
	Until   time.Time `gorm:"not null"`
	Seconds int64     `gorm:"not null"`
}

// SessionConfig is a tenant's routing settings (Skill empty) or a skill
// group's overrides (UCKeFu SessionConfig). Zero values inherit.
type SessionConfig struct {
	Orgi         string `gorm:"primaryKey;size:32"`
	Skill        string `gorm:"primaryKey;size:32"`
	Distribution string `gorm:"size:16;not null;default:''"` // idle | least | round; '' inherits
	LastAgent    *bool  // serve a returning visitor by their last agent first; nil inherits
	MaxUser      int    `gorm:"not null;default:0"`
	InitMaxUser  int    `gorm:"not null;default:0"`
	UpdatedAt    time.Time
	SessionTimers
	// Prompts holds the tenant's prompt texts (JSON object, keys as in
	// protocol.Prompt*); a missing key uses the default of Lang.
	Prompts string `gorm:"type:text"`
	Lang    string `gorm:"size:16;not null;default:''"` // zh-CN | en; '' inherits (tenant: zh-CN)
}

// SessionTimers are the timeouts of a tenant or skill group, in seconds;
// 0 inherits (the tenant's 0 means off), -1 turns a skill group's off.
type SessionTimers struct {
	VisitorIdleWarn  int `gorm:"not null;default:0"` // no visitor message for this long → idle warning
	VisitorIdleClose int `gorm:"not null;default:0"` // after the warning, this long more → end (by timeout)
	AgentNoReply     int `gorm:"not null;default:0"` // visitor waits this long for a reply → one notice
	QueueTimeout     int `gorm:"not null;default:0"` // waiting in the queue this long → end (by queue)
	VisitorLeftGrace int `gorm:"not null;default:0"` // visitor gone this long → end (by user); 0: the default
	// WorkingHours is "HH:MM~HH:MM[,HH:MM~HH:MM...]" in the tenant's time
	// zone; empty means always open.
	WorkingHours string `gorm:"size:255;not null;default:''"`
	// Schedule refines WorkingHours (JSON, see pkg/workhours): hours per
	// weekday and holidays (dates closed or with other hours); empty: none.
	Schedule string `gorm:"type:text"`
}

// RoutingFence holds the newest routing leader's fencing token: a write
// from an older leader (one that lost its lease while paused) is refused.
type RoutingFence struct {
	Name      string `gorm:"primaryKey;size:32"`
	Token     int64  `gorm:"not null"`
	UpdatedAt time.Time
}

// Attachment is an uploaded image or file. Token makes its URL a
// capability: /files/{id}/{token}.
type Attachment struct {
	ID    string `gorm:"primaryKey;size:32"`
	Token string `gorm:"size:64;not null"`
	Orgi  string `gorm:"size:32;not null"`
	AppID string `gorm:"size:32;not null;column:appid"`
	// Owner is the uploader: a visitor's userid or an agent's id, as
	// OwnerKind says; SessionID the session an agent uploaded for.
	Owner     string `gorm:"size:64;not null"`
	OwnerKind string `gorm:"size:8;not null"`
	SessionID string `gorm:"size:32;not null;default:'';column:agentserviceid"`
	Filename  string `gorm:"size:255;not null"`
	Mime      string `gorm:"size:100;not null"`
	Size      int64  `gorm:"not null"`
	Data      []byte `gorm:"type:longblob;not null"`
	CreatedAt time.Time
}

// LeaveMessage is a message left when nobody could serve (UCKeFu LeaveMsg).
type LeaveMessage struct {
	ID        string    `gorm:"primaryKey;size:32"`
	Orgi      string    `gorm:"size:32;not null;index:idx_leave_inbox,priority:1"`
	AppID     string    `gorm:"size:32;not null;column:appid"`
	UserID    string    `gorm:"size:64;not null;column:userid"`
	Name      string    `gorm:"size:64;not null;default:''"`
	Phone     string    `gorm:"size:32;not null;default:''"`
	Email     string    `gorm:"size:128;not null;default:''"`
	Content   string    `gorm:"type:text;not null"`
	Status    string    `gorm:"size:16;not null;index:idx_leave_inbox,priority:2"` // notprocess | processed
	CreatedAt time.Time `gorm:"index:idx_leave_inbox,priority:3"`
	Note      string    `gorm:"type:text"` // the agent's reply or handling note
	HandledBy string    `gorm:"size:32;not null;default:''"`
	HandledAt *time.Time
}

// VisitorTrace is one page view on a visitor's trail (UCKeFu UserHistory).
type VisitorTrace struct {
	PK        int64     `gorm:"primaryKey;autoIncrement;column:pk"`
	Orgi      string    `gorm:"size:32;not null"`
	AppID     string    `gorm:"size:32;not null;column:appid;index:idx_traces_visitor,priority:1"`
	UserID    string    `gorm:"size:64;not null;column:userid;index:idx_traces_visitor,priority:2"`
	Title     string    `gorm:"size:255;not null;default:''"`
	URL       string    `gorm:"size:1024;not null;default:'';column:url"`
	Referrer  string    `gorm:"size:1024;not null;default:''"`
	CreatedAt time.Time `gorm:"index:idx_traces_visitor,priority:3"`
}

// Blacklist blocks a visitor of a site until Until (UCKeFu BlackEntity).
type Blacklist struct {
	AppID     string    `gorm:"primaryKey;size:32;column:appid"`
	UserID    string    `gorm:"primaryKey;size:64;column:userid"`
	Orgi      string    `gorm:"size:32;not null;index"`
	Until     time.Time `gorm:"not null"`
	Reason    string    `gorm:"size:255;not null;default:''"`
	By        string    `gorm:"size:32;not null;default:''"`
	CreatedAt time.Time
}

// ReadState is how far an agent has read a session (for unread counts kept
// in step across the agent's tabs).
type ReadState struct {
	AgentID   string `gorm:"primaryKey;size:32"`
	SessionID string `gorm:"primaryKey;size:32;column:agentserviceid"`
	ReadSeq   int64  `gorm:"not null"`
	UpdatedAt time.Time
}

// Tag labels sessions (UCKeFu tags).
type Tag struct {
	ID    string `gorm:"primaryKey;size:32"`
	Orgi  string `gorm:"size:32;not null;index"`
	Name  string `gorm:"size:64;not null"`
	Color string `gorm:"size:32;not null;default:''"`
	// Kind is what the tag labels: protocol.TagKind* (visitor, session or
	// work order).
	Kind      string `gorm:"size:16;not null;default:'session'"`
	CreatedAt time.Time
}

// VisitorTag links visitors and tags (UCKeFu tags the visitor).
type VisitorTag struct {
	AppID     string `gorm:"primaryKey;size:32;column:appid"`
	UserID    string `gorm:"primaryKey;size:64;column:userid"`
	TagID     string `gorm:"primaryKey;size:32;index"`
	Orgi      string `gorm:"size:32;not null"`
	CreatedAt time.Time
}

// SessionTag links sessions and tags.
type SessionTag struct {
	SessionID string `gorm:"primaryKey;size:32;column:agentserviceid"`
	TagID     string `gorm:"primaryKey;size:32;index"`
}

// CannedReply is a quick reply (UCKeFu QuickReply): the tenant's (Owner
// empty) or one agent's. Its table keeps the free-text category of before
// schema v8, unused (migrateV8 made categories of it).
type CannedReply struct {
	ID    string `gorm:"primaryKey;size:32"`
	Orgi  string `gorm:"size:32;not null;index:idx_canned,priority:1"`
	Owner string `gorm:"size:32;not null;default:'';index:idx_canned,priority:2"`
	// CategoryID is its place in the category tree (canned_categories) of
	// the same owner; empty: uncategorised.
	CategoryID string `gorm:"size:32;not null;default:''"`
	Title      string `gorm:"size:128;not null"`
	Content    string `gorm:"type:text;not null"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// IMMessage is an agent-to-agent message: 1:1 (ToUser) or to a group.
type IMMessage struct {
	PK        int64     `gorm:"primaryKey;autoIncrement;column:pk"`
	ID        string    `gorm:"size:32;not null;uniqueIndex"`
	Orgi      string    `gorm:"size:32;not null"`
	From      string    `gorm:"size:32;not null;column:from_agent;uniqueIndex:idx_im_client,priority:1"`
	ClientID  string    `gorm:"size:64;not null;column:clientid;uniqueIndex:idx_im_client,priority:2"`
	Pair      string    `gorm:"size:65;not null;default:'';index:idx_im_pair,priority:1"` // "a|b" sorted, 1:1 only
	GroupID   string    `gorm:"size:32;not null;default:'';index:idx_im_group,priority:1"`
	Body      string    `gorm:"type:text;not null"`
	CreatedAt time.Time `gorm:"index:idx_im_pair,priority:2;index:idx_im_group,priority:2"`
}

// IMGroup is an agents' group chat.
type IMGroup struct {
	ID        string `gorm:"primaryKey;size:32"`
	Orgi      string `gorm:"size:32;not null;index"`
	Name      string `gorm:"size:64;not null"`
	CreatedBy string `gorm:"size:32;not null"`
	CreatedAt time.Time
}

// IMMember is a group's member, with how far it has read.
type IMMember struct {
	GroupID string `gorm:"primaryKey;size:32"`
	AgentID string `gorm:"primaryKey;size:32;index"`
	ReadPK  int64  `gorm:"not null;default:0"`
}

// IMRead is how far an agent has read a 1:1 conversation.
type IMRead struct {
	AgentID string `gorm:"primaryKey;size:32"`
	With    string `gorm:"primaryKey;size:32;column:with_agent"`
	ReadPK  int64  `gorm:"not null;default:0"`
}

// Role is a tenant's definition of a role's supervision rights (cskefu's
// R / W / T audit permissions): a built-in role's row overrides its default
// rights; other names are the tenant's own roles. Rights is a
// comma-separated list of access.Right names.
type Role struct {
	Orgi      string `gorm:"primaryKey;size:32"`
	Name      string `gorm:"primaryKey;size:32"`
	Rights    string `gorm:"size:64;not null;default:''"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SessionEvent is one step in a conversation's life, for its transcript:
// queued, assigned, transferred, taken over, joined by a supervisor, ended,
// rated, reviewed (protocol.Event* kinds).
type SessionEvent struct {
	PK        int64  `gorm:"primaryKey;autoIncrement;column:pk"`
	SessionID string `gorm:"size:32;not null;column:agentserviceid;index:idx_session_events,priority:1"`
	Orgi      string `gorm:"size:32;not null"`
	Kind      string `gorm:"size:16;not null"`
	// Actor did it (an agent id; empty: the system or the visitor); Target
	// is whom or where it went (an agent id or a skill group id).
	Actor     string    `gorm:"size:32;not null;default:''"`
	Target    string    `gorm:"size:32;not null;default:''"`
	Detail    string    `gorm:"size:512;not null;default:''"` // a memo, an end reason, a rating
	CreatedAt time.Time `gorm:"index:idx_session_events,priority:2"`
}

// SessionNote is a supervisor's whisper in a conversation: seen by its
// agent and by supervisors, never by the visitor, so it takes no message seq.
type SessionNote struct {
	PK         int64     `gorm:"primaryKey;autoIncrement;column:pk"`
	ID         string    `gorm:"size:32;not null;uniqueIndex"`
	SessionID  string    `gorm:"size:32;not null;column:agentserviceid;uniqueIndex:idx_notes_client,priority:1;index:idx_notes_session,priority:1"`
	ClientID   string    `gorm:"size:64;not null;column:clientid;uniqueIndex:idx_notes_client,priority:2"`
	Orgi       string    `gorm:"size:32;not null"`
	AuthorID   string    `gorm:"size:32;not null"`
	AuthorName string    `gorm:"size:64;not null;default:''"`
	Body       string    `gorm:"type:text;not null"`
	CreatedAt  time.Time `gorm:"index:idx_notes_session,priority:2"`
}

// MonitorSample is a tenant's live counters at the end of one minute (UCKeFu
// AgentReport, uk_webim_monitor): the monitor's history and the analytics'
// queue and staffing series.
type MonitorSample struct {
	Orgi    string    `gorm:"primaryKey;size:32"`
	At      time.Time `gorm:"primaryKey"` // the minute, UTC
	Agents  int       `gorm:"not null;default:0"`
	Busy    int       `gorm:"not null;default:0"`
	Users   int       `gorm:"not null;default:0"`
	InQueue int       `gorm:"not null;default:0;column:inqueue"`
}

// ArchiveTerm says an ended session's messages contain a word: the archive's
// full-text index, the same on MySQL and SQLite (see store/archive.go).
// Term is a 64-bit hash of the normalised word.
type ArchiveTerm struct {
	Orgi      string `gorm:"primaryKey;size:32"`
	Term      int64  `gorm:"primaryKey;autoIncrement:false"`
	SessionID string `gorm:"primaryKey;size:32;column:agentserviceid"`
}

// QualityItem is one line of a tenant's quality checklist (UCKeFu's quality
// settings): scored 0 to 5 in a review, weighted by Weight.
type QualityItem struct {
	ID        string `gorm:"primaryKey;size:32"`
	Orgi      string `gorm:"size:32;not null;index:idx_quality_items,priority:1"`
	Name      string `gorm:"size:128;not null"`
	Weight    int    `gorm:"not null;default:1"`
	Position  int    `gorm:"not null;default:0;index:idx_quality_items,priority:2"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// QualityReview is a supervisor's scoring of one ended conversation (UCKeFu
// AgentService quality* fields). Items keeps each scored line with the name
// and weight it had then (JSON), so a later checklist edit does not change
// an old score.
type QualityReview struct {
	SessionID    string    `gorm:"primaryKey;size:32;column:agentserviceid"`
	Orgi         string    `gorm:"size:32;not null;index:idx_quality_agent,priority:1"`
	AgentNo      string    `gorm:"size:32;not null;column:agentno;index:idx_quality_agent,priority:2"` // the agent reviewed
	ReviewerID   string    `gorm:"size:32;not null"`
	ReviewerName string    `gorm:"size:64;not null;default:''"`
	Score        float64   `gorm:"not null;default:0"` // 0–100
	Items        string    `gorm:"type:text;not null"`
	Comment      string    `gorm:"type:text"`
	CreatedAt    time.Time `gorm:"index:idx_quality_agent,priority:3"`
	UpdatedAt    time.Time
}

// CannedCategory is a folder of canned replies (UCKeFu QuickType): a tree
// per tenant (Owner empty) or per agent.
type CannedCategory struct {
	ID        string `gorm:"primaryKey;size:32"`
	Orgi      string `gorm:"size:32;not null;index:idx_canned_categories,priority:1"`
	Owner     string `gorm:"size:32;not null;default:'';index:idx_canned_categories,priority:2"`
	ParentID  string `gorm:"size:32;not null;default:''"`
	Name      string `gorm:"size:64;not null"`
	CreatedAt time.Time
}

// LoginThrottle counts recent failed logins of one key (an account or an
// IP, protocol-independent strings like "user:alice" or "ip:10.0.0.1"),
// shared by every gateway through the database.
type LoginThrottle struct {
	Key         string    `gorm:"primaryKey;size:160"`
	Failures    int       `gorm:"not null;default:0"`
	FirstAt     time.Time `gorm:"not null"` // the first failure of the current window
	LockedUntil *time.Time
	UpdatedAt   time.Time
}

// AuditEntry is one admin action: who changed what, when (UCKeFu has none;
// every mature admin console does).
type AuditEntry struct {
	PK        int64  `gorm:"primaryKey;autoIncrement;column:pk"`
	Orgi      string `gorm:"size:32;not null;index:idx_audit,priority:1"`
	ActorID   string `gorm:"size:32;not null;default:''"`
	ActorName string `gorm:"size:64;not null;default:''"`
	// Action names the change ("agents.update"); Target is what it changed
	// (an id or name).
	Action    string    `gorm:"size:64;not null"`
	Target    string    `gorm:"size:128;not null;default:''"`
	Detail    string    `gorm:"type:text"` // the request, secrets redacted (JSON)
	IP        string    `gorm:"size:64;not null;default:''"`
	CreatedAt time.Time `gorm:"index:idx_audit,priority:2"`
}

// InviteRecord is one invitation of a visitor by an agent and how it ended
// (UCKeFu InviteRecord).
type InviteRecord struct {
	ID        string    `gorm:"primaryKey;size:32"`
	Orgi      string    `gorm:"size:32;not null;index:idx_invites,priority:1"`
	AppID     string    `gorm:"size:32;not null;column:appid"`
	UserID    string    `gorm:"size:64;not null;column:userid"`
	AgentID   string    `gorm:"size:32;not null"` // the inviter
	Status    string    `gorm:"size:16;not null"` // protocol.Invite*
	SessionID string    `gorm:"size:32;not null;default:'';column:agentserviceid"`
	ServedBy  string    `gorm:"size:32;not null;default:''"` // who served the session it led to
	CreatedAt time.Time `gorm:"index:idx_invites,priority:2"`
	UpdatedAt time.Time
}
