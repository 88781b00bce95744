// Package prompt holds the texts routing sends visitors (UCKeFu's
// SessionConfig messages): UCKeFu's Chinese defaults, English ones, and a
// tenant's own overrides, with {agent} and {num} filled in.
package prompt

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Keys of the prompts, named as UCKeFu's SessionConfig fields.
const (
	Assigned     = "successmsg"      // an agent took the chat: {agent}
	Queued       = "agentbusymsg"    // waiting: {num}
	NoAgent      = "noagentmsg"      // waiting with nobody able to serve: {num}
	Ended        = "finessmsg"       // the chat ended
	OffHours     = "notinwhmsg"      // outside working hours
	IdleWarn     = "timeoutmsg"      // the visitor has been silent
	IdleClose    = "retimeoutmsg"    // ... and the chat is closed for it
	AgentNoReply = "agenttimeoutmsg" // the agent has not replied yet
	QueueTimeout = "quenetimeoutmsg" // waited too long in the queue
	Transferred  = "transfermsg"     // another agent took over: {agent}
)

// Languages with built-in defaults; the first is the default.
const (
	Chinese = "zh-CN"
	English = "en"
)

var defaults = map[string]map[string]string{
	Chinese: {
		Assigned:     "坐席分配成功，{agent}为您服务。",
		Queued:       "正在排队，请稍候,在您之前，还有  {num} 位等待用户。",
		NoAgent:      "坐席全忙，已进入等待队列，您也可以在其他时间再来咨询。",
		Ended:        "坐席已断开和您的对话",
		OffHours:     "现在是非工作时间，请在工作时间再来咨询，您也可以给我们留言。",
		IdleWarn:     "您已经有一段时间没有发言了，如果继续没有发言，对话将自动结束。",
		IdleClose:    "由于您长时间没有发言，本次对话已结束。",
		AgentNoReply: "坐席正在处理您的问题，请稍候。",
		QueueTimeout: "排队等待超时，请稍后再来咨询，您也可以给我们留言。",
		Transferred:  "已为您转接，{agent}为您服务。",
	},
	English: {
		Assigned:     "{agent} is now serving you.",
		Queued:       "All agents are busy. You are number {num} in the queue.",
		NoAgent:      "No agent is available right now. You are in the queue; you may also leave a message.",
		Ended:        "The agent has ended this chat.",
		OffHours:     "We are outside our working hours. Please come back later or leave us a message.",
		IdleWarn:     "You have been quiet for a while; this chat will close soon unless you write.",
		IdleClose:    "This chat was closed because you were away.",
		AgentNoReply: "Your agent is looking into this; please wait a moment.",
		QueueTimeout: "Sorry, nobody could answer in time. Please come back later or leave us a message.",
		Transferred:  "You have been transferred; {agent} is now serving you.",
	},
}

// placeholders are what each text may contain, filled in by Text.
var placeholders = map[string][]string{
	Assigned: {"{agent}"}, Transferred: {"{agent}"}, Queued: {"{num}"}, NoAgent: {"{num}"},
}

// Placeholders lists what key's text may contain ({agent}, {num}).
func Placeholders(key string) []string { return slices.Clone(placeholders[key]) }

// Default is the built-in text of key in lang (unknown: Chinese), with its
// placeholders left in.
func Default(lang, key string) string {
	d, ok := defaults[lang]
	if !ok {
		d = defaults[Chinese]
	}
	return d[key]
}

// Keys lists every prompt key.
func Keys() []string { return slices.Sorted(maps.Keys(defaults[Chinese])) }

// Languages lists the languages with defaults.
func Languages() []string { return []string{Chinese, English} }

// Set is the prompts of one tenant.
type Set struct {
	lang   string
	custom map[string]string
}

// New returns the prompts for lang (” or unknown: Chinese, as UCKeFu) with
// custom (a JSON object of key → text; ” for none) over the defaults. A
// malformed custom is ignored: Validate refuses it before it is saved.
func New(lang, custom string) Set {
	if _, ok := defaults[lang]; !ok {
		lang = Chinese
	}
	s := Set{lang: lang}
	if custom != "" {
		_ = json.Unmarshal([]byte(custom), &s.custom)
	}
	return s
}

// Text returns the prompt key with {agent} and {num} filled in.
func (s Set) Text(key, agent string, num int) string {
	t, ok := s.custom[key]
	if !ok || t == "" {
		d, known := defaults[s.lang]
		if !known { // the zero Set
			d = defaults[Chinese]
		}
		t = d[key]
	}
	return strings.NewReplacer("{agent}", agent, "{num}", fmt.Sprint(num)).Replace(t)
}

// MaxLen bounds one custom prompt, in bytes.
const MaxLen = 500

// Validate checks custom prompts before they are stored.
func Validate(custom map[string]string) error {
	for k, v := range custom {
		if _, ok := defaults[Chinese][k]; !ok {
			return fmt.Errorf("unknown prompt %q (known: %s)", k, strings.Join(Keys(), ", "))
		}
		if len(v) > MaxLen {
			return fmt.Errorf("prompt %q is longer than %d bytes", k, MaxLen)
		}
	}
	return nil
}
