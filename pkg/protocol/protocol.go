// Package protocol holds the wire contract shared by the gateway, the routing
// service and tests: namespaces, event names, payload shapes, error codes and
// room names. docs/protocol.md is the prose version of this file.
package protocol

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Namespaces.
const (
	NamespaceUser  = "/im/user"
	NamespaceAgent = "/im/agent"
	NamespaceEntIM = "/im/entim"
)

// Event names, identical on both directions where they coincide.
const (
	EventNew          = "new"
	EventMessage      = "message"
	EventTrace        = "trace"
	EventInvite       = "invite"
	EventSatisfaction = "satisfaction"
	EventStatus       = "status"
	EventTyping       = "typing"
	EventEnd          = "end"
	EventTransOut     = "transout"
	EventLeave        = "leave"
	EventRefused      = "refused"
)

// Session (AgentService) states, spelled as UCKeFu spells them.
const (
	SessionInQueue   = "inquene"
	SessionInService = "inservice"
	SessionEnd       = "end"
)

// Visitor status states carried by the `status` event.
const (
	StateAssigned = "assigned"
	StateQueued   = "queued"
	StateNoAgent  = "noagent"
	StateOffHours = "offhours"
	StateEnded    = "ended"
	StateRating   = "rating"
)

// Message kinds.
const (
	TypeMessage = "message"
	TypeWriting = "writing"

	MsgTypeText  = "text"
	MsgTypeImage = "image"
	MsgTypeFile  = "file"

	CallTypeIn     = "in"
	CallTypeOut    = "out"
	CallTypeSystem = "system"
)

// Agent statuses. Offline is set by the server only.
const (
	AgentReady    = "ready"
	AgentNotReady = "notready"
	AgentOffline  = "offline"
)

// Distribution policies of the routing settings (UCKeFu
// SessionConfig.distribution).
const (
	// DistributionLeast: fewest chats first, ties to the agent idle longest
	// (UCKeFu 1, 坐席平均分配). The default.
	DistributionLeast = "least"
	// DistributionIdle: the agent longest without an assignment first, ties
	// to the fewest chats (UCKeFu 0, 空闲坐席优先).
	DistributionIdle = "idle"
	// DistributionRound: agents in turn, in a fixed order, starting after
	// the one served last.
	DistributionRound = "round"
)

// Roles.
const (
	RoleAgent      = "agent"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
	RoleSuperAdmin = "superadmin"
)

// Limits that are part of the contract.
const (
	DefaultTextLimit = 2000     // characters, per site unless configured
	MaxPacketBytes   = 64 << 10 // one Socket.IO packet
	MaxClientIDLen   = 64
)

// TimeFormat is RFC 3339 UTC with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Time is a time that marshals in TimeFormat, UTC.
type Time time.Time

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte(`""`), nil
	}
	return []byte(`"` + time.Time(t).UTC().Format(TimeFormat) + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == `""` || s == "null" {
		*t = Time{}
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("time: not a string: %s", s)
	}
	v, err := time.Parse(time.RFC3339Nano, s[1:len(s)-1])
	if err != nil {
		return fmt.Errorf("time: %w", err)
	}
	*t = Time(v)
	return nil
}

// Who or what ended a session (UCKeFu EndByType, plus supervisor).
const (
	EndByAgent      = "agent"
	EndBySupervisor = "supervisor"
	EndByUser       = "user"    // the visitor left
	EndByTimeout    = "timeout" // the visitor was idle
	EndByQueue      = "queue"   // waited too long in the queue
	EndBySystem     = "system"  // e.g. outside working hours
)

// Error codes.
const (
	CodeBadRequest   = "bad_request"
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeNotFound     = "not_found"
	CodeConflict     = "conflict"
	CodeTooLarge     = "too_large"
	CodeRateLimited  = "rate_limited"
	CodeUnavailable  = "unavailable"
	CodeInternal     = "internal"
)

// Error is the `{code, message}` object of every error reply, socket or REST.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an *Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as an *Error, mapping anything unknown to `internal`
// so that internal details never reach a client.
func AsError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Code: CodeInternal, Message: "internal error"}
}

// ErrorAck is the acknowledgement of a failed event.
type ErrorAck struct {
	OK    bool   `json:"ok"`
	Error *Error `json:"error"`
}

// NewErrorAck wraps err for an acknowledgement.
func NewErrorAck(err error) ErrorAck { return ErrorAck{OK: false, Error: AsError(err)} }

// TransferResult is the routing service's answer to a transfer (the REST
// reply of POST /api/v1/sessions/{id}/transfer).
type TransferResult struct {
	OK    bool   `json:"ok"`
	Error *Error `json:"error,omitempty"`
	// Queued: nobody in the target group had room, so the visitor waits at
	// the head of that group's queue.
	Queued  bool            `json:"queued,omitempty"`
	Session *SessionSummary `json:"session,omitempty"`
}

// Refusal is the payload of `refused`, sent before the server disconnects a
// socket it will not serve.
type Refusal = Error

// ---- visitor events ----

// NewChat is the visitor's `new` payload (pre-chat form data).
type NewChat struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Email string `json:"email"`
	Memo  string `json:"memo"`
	// Agent is the agent whose invite the visitor accepted, or the page's
	// preset agent: asked for first.
	Agent string `json:"agent"`
	// Skill is the skill group the visitor picked (or the page's preset);
	// empty: the connect query's.
	Skill string `json:"skill"`
}

// NewChatAck acknowledges `new`.
type NewChatAck struct {
	OK             bool   `json:"ok"`
	AgentServiceID string `json:"agentserviceid"`
}

// SendMessage is a client's `message` payload. AgentServiceID is required
// from agents and ignored from visitors (a visitor has one open session).
type SendMessage struct {
	AgentServiceID string `json:"agentserviceid"`
	Type           string `json:"type"`
	MsgType        string `json:"msgtype"`
	Message        string `json:"message"`
	AttachmentID   string `json:"attachmentid"`
	ClientID       string `json:"clientid"`
}

// MessageAck acknowledges a stored message.
type MessageAck struct {
	OK         bool   `json:"ok"`
	ID         string `json:"id"`
	Seq        int64  `json:"seq"`
	CreateTime Time   `json:"createtime"`
}

// OKAck is the acknowledgement of events that return nothing else.
type OKAck struct {
	OK bool `json:"ok"`
}

// VisitorStatus is the `status` event to a visitor.
type VisitorStatus struct {
	State          string `json:"state"`
	MessageType    string `json:"messageType"`
	Message        string `json:"message"`
	AgentServiceID string `json:"agentserviceid"`
	AgentNo        string `json:"agentno,omitempty"`
	NickName       string `json:"nickName,omitempty"`
	Num            *int   `json:"num,omitempty"`
	CreateTime     Time   `json:"createtime"`
}

// Typing tells a visitor the agent is typing.
type Typing struct {
	AgentServiceID string `json:"agentserviceid"`
}

// AgentCounters is the `status` event to agents.
type AgentCounters struct {
	Agents     int  `json:"agents"`
	Busy       int  `json:"busy"`
	Users      int  `json:"users"`
	InQueue    int  `json:"inquene"`
	CreateTime Time `json:"createtime"`
}

// Leave tells an agent its login ended.
type Leave struct {
	Reason string `json:"reason"`
}

// ChatMessage is a stored message as every client sees it.
type ChatMessage struct {
	ID             string `json:"id"`
	Seq            int64  `json:"seq"`
	ClientID       string `json:"clientid"`
	AgentServiceID string `json:"agentserviceid"`
	USession       string `json:"usession"`
	Type           string `json:"type"`
	MsgType        string `json:"msgtype"`
	CallType       string `json:"calltype"`
	Message        string `json:"message"`
	AttachmentID   string `json:"attachmentid,omitempty"`
	Filename       string `json:"filename,omitempty"`
	Filesize       int64  `json:"filesize,omitempty"`
	URL            string `json:"url,omitempty"`
	Mime           string `json:"mime,omitempty"`
	UserID         string `json:"userid"`
	Username       string `json:"username"`
	NickName       string `json:"nickName"`
	ToUser         string `json:"touser"`
	AppID          string `json:"appid"`
	CreateTime     Time   `json:"createtime"`
	// Intervened: a supervisor wrote it into the chat (UserID and NickName
	// are the supervisor's).
	Intervened bool `json:"intervened,omitempty"`
}

// SessionSummary describes a session to agents.
type SessionSummary struct {
	AgentServiceID string `json:"agentserviceid"`
	UserID         string `json:"userid"`
	AppID          string `json:"appid"`
	Nickname       string `json:"nickname"`
	Name           string `json:"name"`
	Phone          string `json:"phone"`
	Email          string `json:"email"`
	Skill          string `json:"skill"`
	AgentNo        string `json:"agentno"`
	Status         string `json:"status"`
	CreateTime     Time   `json:"createtime"`
	Title          string `json:"title"`
	URL            string `json:"url"`
	OSName         string `json:"osname"`
	Browser        string `json:"browser"`
	IP             string `json:"ip"`
	// Memo is what the visitor wrote in the pre-chat form's question field.
	Memo      string `json:"memo,omitempty"`
	Trans     bool   `json:"trans,omitempty"` // transferred at least once
	TransMemo string `json:"transmemo,omitempty"`
	// TransFrom is the agent who had the chat before the last transfer.
	TransFrom string `json:"transfrom,omitempty"`
}

// Validate checks a `new` payload's field sizes.
func (n NewChat) Validate() error {
	return firstError(
		maxRunes("name", n.Name, 64),
		maxRunes("phone", n.Phone, 32),
		maxRunes("email", n.Email, 128),
		maxRunes("memo", n.Memo, 512),
		maxRunes("agent", n.Agent, 32),
		maxRunes("skill", n.Skill, 32),
	)
}

// Validate checks what can be checked without the site: kinds and client id.
// The text limit is per site and checked by the gateway.
func (m SendMessage) Validate() error {
	switch m.Type {
	case TypeMessage, TypeWriting:
	default:
		return Errorf(CodeBadRequest, "type must be %q or %q", TypeMessage, TypeWriting)
	}
	if m.Type == TypeWriting {
		return nil
	}
	switch m.MsgType {
	case MsgTypeText:
		if m.Message == "" {
			return Errorf(CodeBadRequest, "message is empty")
		}
	case MsgTypeImage, MsgTypeFile:
		if m.AttachmentID == "" || len(m.AttachmentID) > 32 {
			return Errorf(CodeBadRequest, "msgtype %q needs the attachmentid of an upload", m.MsgType)
		}
	default:
		return Errorf(CodeBadRequest, "msgtype must be %q, %q or %q", MsgTypeText, MsgTypeImage, MsgTypeFile)
	}
	if m.ClientID == "" || len(m.ClientID) > MaxClientIDLen {
		return Errorf(CodeBadRequest, "clientid is required, at most %d bytes", MaxClientIDLen)
	}
	return nil
}

func maxRunes(field, v string, n int) error {
	if utf8.RuneCountInString(v) > n {
		return Errorf(CodeTooLarge, "%s is longer than %d characters", field, n)
	}
	return nil
}

func firstError(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
