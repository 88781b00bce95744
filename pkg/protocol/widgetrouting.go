package protocol

import "encoding/json"

// The widget's routing and rating settings (docs/protocol.md, "Widget
// routing and satisfaction"): the skill picker's data in the widget's
// config answer and the site's satisfaction settings, read by the gateway
// to accept or refuse ratings.

// CodeBadSkill refuses a visitor's skill group that is not one of the
// site's, or a `new` without a skill when the site offers several.
const CodeBadSkill = "bad_skill"

// Consult is the skill picker of GET /im/{appid}/config (UCKeFu's
// consult_skill_*): the site's groups in the site's order.
type Consult struct {
	// Title heads the picker; empty: the widget's own text.
	Title string `json:"title,omitempty"`
	// ShowAgents: every group carries Online.
	ShowAgents bool           `json:"showagents"`
	Skills     []ConsultSkill `json:"skills"`
}

// ConsultSkill is one group of the picker.
type ConsultSkill struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Online is whether one of the group's agents is ready and not busy;
	// absent unless the site shows it.
	Online *bool `json:"online,omitempty"`
}

// When the widget offers the rating form.
const (
	RateAtEnd     = "end"     // when a chat an agent served ends, and when an agent asks
	RateOnRequest = "request" // only when an agent asks
)

// Rating scales the widget offers (levels 1..Scale, the best last).
const (
	MinScale = 3
	MaxScale = 5
)

// SatisfactionSettings is a site's `satisfaction` widget config key
// (UCKeFu's satisfaction switch and the com.dic.webim.comment levels).
// Every field is optional: a site without the key rates as before (on, five
// levels, a comment, at the end).
type SatisfactionSettings struct {
	Enabled *bool    `json:"enabled"`
	Scale   int      `json:"scale"`   // MinScale or MaxScale; 0: MaxScale
	Labels  []string `json:"labels"`  // one per level, worst first; none: the widget's
	Comment *bool    `json:"comment"` // offer the comment field; nil: yes
	When    string   `json:"when"`    // RateAtEnd or RateOnRequest; empty: RateAtEnd
}

// On reports whether the site takes ratings.
func (s SatisfactionSettings) On() bool { return s.Enabled == nil || *s.Enabled }

// Levels is the highest level the site's scale allows.
func (s SatisfactionSettings) Levels() int {
	if s.Scale == 0 {
		return MaxScale
	}
	return s.Scale
}

// SiteSatisfaction reads the satisfaction settings of a site's widget
// config (JSON); a malformed config means the defaults.
func SiteSatisfaction(config string) SatisfactionSettings {
	var c struct {
		Satisfaction SatisfactionSettings `json:"satisfaction"`
	}
	if json.Unmarshal([]byte(config), &c) != nil {
		return SatisfactionSettings{}
	}
	return c.Satisfaction
}
