package router

import (
	"testing"
	"time"
)

func TestPick(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		cands []candidate
		want  string
		ok    bool
	}{
		{"none", nil, "", false},
		{"all full", []candidate{{AgentID: "a", Load: 2, Max: 2}, {AgentID: "b", Load: 3, Max: 1}}, "", false},
		{"least loaded", []candidate{{AgentID: "a", Load: 2, Max: 5}, {AgentID: "b", Load: 1, Max: 5}, {AgentID: "c", Load: 3, Max: 5}}, "b", true},
		{"full agent skipped even if least loaded would be it", []candidate{{AgentID: "a", Load: 0, Max: 0}, {AgentID: "b", Load: 4, Max: 5}}, "b", true},
		{"tie goes to longest idle", []candidate{{AgentID: "a", Load: 1, Max: 5, LastAssigned: t0.Add(time.Minute)}, {AgentID: "b", Load: 1, Max: 5, LastAssigned: t0}}, "b", true},
		{"never assigned counts as idlest", []candidate{{AgentID: "a", Load: 1, Max: 5, LastAssigned: t0}, {AgentID: "b", Load: 1, Max: 5}}, "b", true},
		{"full tie goes to lowest id", []candidate{{AgentID: "b", Load: 1, Max: 5}, {AgentID: "a", Load: 1, Max: 5}}, "a", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := pick(tc.cands)
			if ok != tc.ok || got.AgentID != tc.want {
				t.Fatalf("pick = %q,%v; want %q,%v", got.AgentID, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestCapacity(t *testing.T) {
	if got := capacity(3, 7); got != 3 {
		t.Fatalf("agent's own maxuser: got %d", got)
	}
	if got := capacity(0, 7); got != 7 {
		t.Fatalf("tenant's maxuser: got %d", got)
	}
	if got := capacity(0, 0); got != DefaultMaxUser {
		t.Fatalf("default: got %d", got)
	}
}
