package store

import "github.com/kefu-im/kefu/pkg/protocol"

// Chat is the message as clients see it.
func (m Message) Chat() protocol.ChatMessage {
	return protocol.ChatMessage{
		ID:             m.ID,
		Seq:            m.Seq,
		ClientID:       m.ClientID,
		AgentServiceID: m.SessionID,
		USession:       m.USession,
		Type:           m.Type,
		MsgType:        m.MsgType,
		CallType:       m.CallType,
		Message:        m.Body,
		AttachmentID:   m.AttachmentID,
		Filename:       m.Filename,
		Filesize:       m.Filesize,
		URL:            m.URL,
		Mime:           m.Mime,
		UserID:         m.UserID,
		Username:       m.Username,
		NickName:       m.Nickname,
		ToUser:         m.ToUser,
		AppID:          m.AppID,
		CreateTime:     protocol.Time(m.CreatedAt),
		Intervened:     m.Intervened,
	}
}

// View is the whisper as its agent and supervisors see it.
func (n SessionNote) View() protocol.Note {
	return protocol.Note{
		ID: n.ID, ClientID: n.ClientID, AgentServiceID: n.SessionID, UserID: n.AuthorID, NickName: n.AuthorName,
		Message: n.Body, CreateTime: protocol.Time(n.CreatedAt),
	}
}

// Summary is the session as agents see it.
func (s Session) Summary() protocol.SessionSummary {
	return protocol.SessionSummary{
		AgentServiceID: s.ID,
		UserID:         s.UserID,
		AppID:          s.AppID,
		Nickname:       s.Nickname,
		Name:           s.Name,
		Phone:          s.Phone,
		Email:          s.Email,
		Skill:          s.Skill,
		AgentNo:        s.AgentNo,
		Status:         s.Status,
		CreateTime:     protocol.Time(s.CreatedAt),
		Title:          s.Title,
		URL:            s.URL,
		OSName:         s.OSName,
		Browser:        s.Browser,
		IP:             s.IP,
		Memo:           s.Memo,
		Trans:          s.Trans,
		TransMemo:      s.TransMemo,
	}
}
