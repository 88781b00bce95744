package protocol

// An invitation's life (UCKeFu InviteRecord): sent, then refused or
// accepted by the visitor; an accepted one ends served by the inviter or
// redirected to whoever routing chose when the inviter could not take it.
const (
	InviteSent       = "sent"
	InviteRefused    = "refused"
	InviteAccepted   = "accepted"
	InviteServed     = "served"
	InviteRedirected = "redirected"
)

// EventInviteResult tells an inviting agent how its invitation ended when
// it did not end with the chat on its own list (refused, or redirected).
// It also reaches an agent a visitor asked for by link (`agent=`) when
// routing gave the chat to someone else.
const EventInviteResult = "inviteresult"

// CodeNotReady refuses an invitation from an agent who is not ready: the
// visitor's answer would go to another agent.
const CodeNotReady = "not_ready"

// InviteResult is the `inviteresult` payload.
type InviteResult struct {
	InviteID       string `json:"inviteid,omitempty"`
	AppID          string `json:"appid"`
	UserID         string `json:"userid"`
	Status         string `json:"status"`
	AgentServiceID string `json:"agentserviceid,omitempty"`
	// ServedBy is the agent who got the chat instead (redirected).
	ServedBy     string `json:"servedby,omitempty"`
	ServedByName string `json:"servedbyname,omitempty"`
}

// InviteSentAnswer answers POST /api/v1/visitors/{appid}/{userid}/invite.
type InviteSentAnswer struct {
	OK       bool   `json:"ok"`
	InviteID string `json:"inviteid"`
	Status   string `json:"status"`
}
