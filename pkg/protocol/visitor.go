package protocol

// Visitor-side events beyond chatting: page trail, invites, ratings, and
// the REST shapes of the widget.

// Trace is the visitor's `trace` payload: a page view.
type Trace struct {
	Title    string `json:"title"`
	URL      string `json:"url"`
	Referrer string `json:"referrer"`
}

// Validate bounds the fields.
func (t Trace) Validate() error {
	return firstError(maxRunes("title", t.Title, 255), maxRunes("url", t.URL, 1024), maxRunes("referrer", t.Referrer, 1024))
}

// Invite is sent to a visitor an agent invites to chat.
type Invite struct {
	InviteID string `json:"inviteid,omitempty"`
	AgentNo  string `json:"agentno"`
	NickName string `json:"nickName"`
	Message  string `json:"message"`
}

// InviteAnswer is the visitor's `invite` payload.
type InviteAnswer struct {
	Accept bool `json:"accept"`
}

// Satisfaction is the visitor's rating of a session.
type Satisfaction struct {
	AgentServiceID string `json:"agentserviceid"`
	Level          int    `json:"level"`
	Comment        string `json:"comment"`
}

// Validate checks the level and the comment's length.
func (s Satisfaction) Validate() error {
	if s.AgentServiceID == "" {
		return Errorf(CodeBadRequest, "agentserviceid is required")
	}
	if s.Level < 1 || s.Level > 5 {
		return Errorf(CodeBadRequest, "level must be 1 to 5")
	}
	return maxRunes("comment", s.Comment, 500)
}

// Upload describes a stored attachment.
type Upload struct {
	AttachmentID string `json:"attachmentid"`
	URL          string `json:"url"`
	Filename     string `json:"filename"`
	Filesize     int64  `json:"filesize"`
	Mime         string `json:"mime"`
}
