package protocol

import "strings"

// NamespaceIM is agent-to-agent IM (UCKeFu entim).
const NamespaceIM = "/im/entim"

// TenantIMRoom holds every IM socket of one tenant (presence goes there).
func TenantIMRoom(orgi string) string { return "t:" + orgi + ":im" }

// IMSend is an agent's `message` in /im/entim: to one colleague (ToUser)
// or to a group.
type IMSend struct {
	ToUser   string `json:"touser"`
	Group    string `json:"group"`
	MsgType  string `json:"msgtype"`
	Message  string `json:"message"`
	ClientID string `json:"clientid"`
}

// MaxIMText bounds an IM message.
const MaxIMText = 2000

// Validate checks the addressing, the kind and the text.
func (m IMSend) Validate() error {
	switch {
	case (m.ToUser == "") == (m.Group == ""):
		return Errorf(CodeBadRequest, "give exactly one of touser and group")
	case m.MsgType != "" && m.MsgType != MsgTypeText:
		return Errorf(CodeBadRequest, "msgtype must be %q", MsgTypeText)
	case strings.TrimSpace(m.Message) == "":
		return Errorf(CodeBadRequest, "message is empty")
	case m.ClientID == "" || len(m.ClientID) > MaxClientIDLen:
		return Errorf(CodeBadRequest, "clientid is required, at most %d bytes", MaxClientIDLen)
	}
	return maxRunes("message", m.Message, MaxIMText)
}

// IMMessage is an IM message as clients see it.
type IMMessage struct {
	ID         string `json:"id"`
	From       string `json:"from"`
	ToUser     string `json:"touser,omitempty"`
	Group      string `json:"group,omitempty"`
	Message    string `json:"message"`
	ClientID   string `json:"clientid"`
	CreateTime Time   `json:"createtime"`
}

// IMAck acknowledges an IM message.
type IMAck struct {
	OK         bool   `json:"ok"`
	ID         string `json:"id"`
	CreateTime Time   `json:"createtime"`
}

// IMPresence tells colleagues that an agent came online or went offline.
type IMPresence struct {
	UserID string `json:"userid"`
	Online bool   `json:"online"`
}
