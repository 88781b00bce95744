package prompt

import "testing"

func TestDefaultsOverridesAndPlaceholders(t *testing.T) {
	zh := New("", "")
	if got := zh.Text(Assigned, "小王", 0); got != "坐席分配成功，小王为您服务。" {
		t.Fatalf("zh default: %q", got)
	}
	en := New(English, `{"agentbusymsg":"Hold on, {agent}: you are #{num}."}`)
	if got := en.Text(Queued, "Ann", 3); got != "Hold on, Ann: you are #3." {
		t.Fatalf("override: %q", got)
	}
	if got := en.Text(NoAgent, "", 0); got != defaults[English][NoAgent] {
		t.Fatalf("English default under an override of another key: %q", got)
	}
	if got := New("xx", "not json").Text(Ended, "", 0); got != defaults[Chinese][Ended] {
		t.Fatalf("unknown language and malformed custom: %q", got)
	}
	for lang, texts := range defaults {
		for _, k := range Keys() {
			if texts[k] == "" {
				t.Errorf("%s has no default for %s", lang, k)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	if err := Validate(map[string]string{Assigned: "ok {agent}"}); err != nil {
		t.Fatal(err)
	}
	if err := Validate(map[string]string{"nope": "x"}); err == nil {
		t.Fatal("unknown key accepted")
	}
	long := make([]byte, MaxLen+1)
	if err := Validate(map[string]string{Ended: string(long)}); err == nil {
		t.Fatal("over-long prompt accepted")
	}
}
