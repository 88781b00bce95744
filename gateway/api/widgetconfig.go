package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// widgetConfig is the known part of a site's widget config (protocol.md,
// "Widget config"); other keys are kept as they are.
type widgetConfig struct {
	Button *struct {
		Shape    string `json:"shape"`
		Color    string `json:"color"`
		Position string `json:"position"`
		Text     string `json:"text"`
		Delay    int    `json:"delay"`
	} `json:"button"`
	Theme *struct {
		Color  string `json:"color"`
		Logo   string `json:"logo"`
		Avatar string `json:"avatar"`
	} `json:"theme"`
	Welcome string `json:"welcome"`
	Panel   *struct {
		Name, Phone, Email, Intro string
	} `json:"panel"`
	Prechat *struct {
		Enabled bool `json:"enabled"`
		Fields  []struct {
			Name     string `json:"name"`
			Label    string `json:"label"`
			Required bool   `json:"required"`
		} `json:"fields"`
	} `json:"prechat"`
	Invite *struct {
		Auto    int    `json:"auto"`
		Message string `json:"message"`
	} `json:"invite"`
	SneakPeek bool         `json:"sneakpeek"`
	Lang      string       `json:"lang"`
	Uploads   uploadLimits `json:"uploads"`
	Consult   *struct {
		Title      string `json:"title"`
		ShowAgents bool   `json:"showagents"`
	} `json:"consult"`
	Satisfaction *protocol.SatisfactionSettings `json:"satisfaction"`
}

// cssColor accepts #rgb, #rrggbb, #rrggbbaa, rgb()/rgba()/hsl() and plain
// names: enough for any colour, nothing that could close a CSS rule.
var cssColor = regexp.MustCompile(`^(#[0-9a-fA-F]{3,8}|(rgb|rgba|hsl|hsla)\([0-9.,%\s]+\)|[a-zA-Z]{3,20})$`)

// validateWidgetConfig refuses a config whose known keys have wrong types
// or values, with a message that names the key.
func validateWidgetConfig(raw json.RawMessage) error {
	var c widgetConfig
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&c); err != nil {
		return protocol.Errorf(protocol.CodeBadRequest, "config: %v", err)
	}
	bad := func(format string, args ...any) error {
		return protocol.Errorf(protocol.CodeBadRequest, "config: "+format, args...)
	}
	colour := func(key, v string) error {
		if v != "" && !cssColor.MatchString(v) {
			return bad("%s %q is not a colour (#rrggbb, rgb(), or a name)", key, v)
		}
		return nil
	}
	image := func(key, v string) error {
		if v == "" {
			return nil
		}
		// https only: the widget's window is served with a CSP that loads
		// images from https (an http image on an https page is blocked).
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return bad("%s must be an https URL", key)
		}
		return nil
	}
	if b := c.Button; b != nil {
		if b.Shape != "" && !slices.Contains([]string{"bar", "square", "circle"}, b.Shape) {
			return bad("button.shape must be bar, square or circle")
		}
		if b.Position != "" && b.Position != "right" && b.Position != "left" {
			return bad("button.position must be right or left")
		}
		if b.Delay < 0 || b.Delay > 600 {
			return bad("button.delay must be 0 to 600 seconds")
		}
		if len([]rune(b.Text)) > 32 {
			return bad("button.text is longer than 32 characters")
		}
		if err := colour("button.color", b.Color); err != nil {
			return err
		}
	}
	if t := c.Theme; t != nil {
		for _, err := range []error{colour("theme.color", t.Color), image("theme.logo", t.Logo), image("theme.avatar", t.Avatar)} {
			if err != nil {
				return err
			}
		}
	}
	if len([]rune(c.Welcome)) > 500 {
		return bad("welcome is longer than 500 characters")
	}
	if p := c.Prechat; p != nil {
		for i, f := range p.Fields {
			if !slices.Contains([]string{"name", "phone", "email", "memo"}, f.Name) {
				return bad("prechat.fields[%d].name must be name, phone, email or memo", i)
			}
		}
	}
	if inv := c.Invite; inv != nil && (inv.Auto < 0 || inv.Auto > 3600) {
		return bad("invite.auto must be 0 (never) to 3600 seconds")
	}
	if c.Lang != "" && !slices.Contains(prompt.Languages(), c.Lang) {
		return bad("lang must be one of %v", prompt.Languages())
	}
	if c.Uploads.MaxSize < 0 || c.Uploads.MaxSize > MaxUpload {
		return bad("uploads.maxsize must be 0 (default) to %s", fmt.Sprint(MaxUpload))
	}
	if c.Consult != nil && utf8.RuneCountInString(c.Consult.Title) > 64 {
		return bad("consult.title is longer than 64 characters")
	}
	if sat := c.Satisfaction; sat != nil {
		return validateSatisfaction(*sat, bad)
	}
	return nil
}

func validateSatisfaction(sat protocol.SatisfactionSettings, bad func(string, ...any) error) error {
	if sat.Scale != 0 && sat.Scale != protocol.MinScale && sat.Scale != protocol.MaxScale {
		return bad("satisfaction.scale must be %d or %d", protocol.MinScale, protocol.MaxScale)
	}
	if len(sat.Labels) > 0 && len(sat.Labels) != sat.Levels() {
		return bad("satisfaction.labels must name each of the %d levels, worst first", sat.Levels())
	}
	for i, l := range sat.Labels {
		if n := utf8.RuneCountInString(strings.TrimSpace(l)); n == 0 || n > 20 {
			return bad("satisfaction.labels[%d] must be 1 to 20 characters", i)
		}
	}
	if sat.When != "" && sat.When != protocol.RateAtEnd && sat.When != protocol.RateOnRequest {
		return bad("satisfaction.when must be %s or %s", protocol.RateAtEnd, protocol.RateOnRequest)
	}
	return nil
}
