// Package online knows which visitors have the widget open right now, on any
// gateway: what agents pick from to invite someone to chat. Gateways report
// their own visitors as they come and go and refresh them periodically; an
// entry not refreshed for TTL is gone (its gateway died).
package online

import "time"

// TTL is how long an entry lives without a refresh; gateways refresh theirs
// every RefreshInterval.
const (
	TTL             = 60 * time.Second
	RefreshInterval = 20 * time.Second
)

// Visitor is one visitor with the widget open.
type Visitor struct {
	AppID    string    `json:"appid"`
	UserID   string    `json:"userid"`
	Nickname string    `json:"nickname"`
	URL      string    `json:"url"`
	Title    string    `json:"title"`
	Since    time.Time `json:"since"`
	Chatting bool      `json:"chatting"`
}

// Key identifies a visitor within a tenant.
func (v Visitor) Key() string { return v.AppID + "|" + v.UserID }
