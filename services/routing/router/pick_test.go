package router

import (
	"testing"
	"time"
)

func TestPickPolicies(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	tests := []struct {
		name   string
		policy string
		cands  []candidate
		want   string
		ok     bool
	}{
		{"none", PolicyLeast, nil, "", false},
		{"all full", PolicyLeast, []candidate{{AgentID: "a", Load: 2, Max: 2}, {AgentID: "b", Load: 3, Max: 1}}, "", false},
		{"least loaded", PolicyLeast, []candidate{{AgentID: "a", Load: 2, Max: 5}, {AgentID: "b", Load: 1, Max: 5}, {AgentID: "c", Load: 3, Max: 5}}, "b", true},
		{"least: full agent skipped", PolicyLeast, []candidate{{AgentID: "a", Load: 0, Max: 0}, {AgentID: "b", Load: 4, Max: 5}}, "b", true},
		{"least: tie to longest idle", PolicyLeast, []candidate{{AgentID: "a", Load: 1, Max: 5, LastAssigned: at(1)}, {AgentID: "b", Load: 1, Max: 5, LastAssigned: at(0)}}, "b", true},
		{"least: never assigned is idlest", PolicyLeast, []candidate{{AgentID: "a", Load: 1, Max: 5, LastAssigned: at(0)}, {AgentID: "b", Load: 1, Max: 5}}, "b", true},
		{"least: full tie to lowest id", PolicyLeast, []candidate{{AgentID: "b", Load: 1, Max: 5}, {AgentID: "a", Load: 1, Max: 5}}, "a", true},
		{"unknown policy means least", "", []candidate{{AgentID: "a", Load: 2, Max: 5}, {AgentID: "b", Load: 1, Max: 5}}, "b", true},
		{"idle: longest idle even if busier", PolicyIdle, []candidate{{AgentID: "a", Load: 0, Max: 5, LastAssigned: at(5)}, {AgentID: "b", Load: 3, Max: 5, LastAssigned: at(1)}}, "b", true},
		{"idle: tie to fewer chats", PolicyIdle, []candidate{{AgentID: "a", Load: 2, Max: 5, LastAssigned: at(1)}, {AgentID: "b", Load: 1, Max: 5, LastAssigned: at(1)}}, "b", true},
		{"idle: full tie to lowest id", PolicyIdle, []candidate{{AgentID: "b", Load: 1, Max: 5}, {AgentID: "a", Load: 1, Max: 5}}, "a", true},
		{"idle: full agent skipped", PolicyIdle, []candidate{{AgentID: "a", Load: 5, Max: 5}, {AgentID: "b", Load: 1, Max: 5, LastAssigned: at(9)}}, "b", true},
		{"round: after the last served", PolicyRound, []candidate{{AgentID: "a", Load: 0, Max: 5, LastAssigned: at(1)}, {AgentID: "b", Load: 3, Max: 5, LastAssigned: at(2)}, {AgentID: "c", Load: 4, Max: 5}}, "c", true},
		{"round: wraps around", PolicyRound, []candidate{{AgentID: "a", Load: 1, Max: 5, LastAssigned: at(1)}, {AgentID: "b", Load: 1, Max: 5}, {AgentID: "c", Load: 0, Max: 5, LastAssigned: at(2)}}, "a", true},
		{"round: skips full, keeps the turn", PolicyRound, []candidate{{AgentID: "a", Load: 0, Max: 5}, {AgentID: "b", Load: 5, Max: 5, LastAssigned: at(3)}, {AgentID: "c", Load: 5, Max: 5}, {AgentID: "d", Load: 2, Max: 5}}, "d", true},
		{"round: nobody served yet starts at the lowest id", PolicyRound, []candidate{{AgentID: "b", Load: 0, Max: 5}, {AgentID: "a", Load: 3, Max: 5}}, "a", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := pick(tc.cands, tc.policy)
			if ok != tc.ok || got.AgentID != tc.want {
				t.Fatalf("pick = %q,%v; want %q,%v", got.AgentID, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestFirstOfPrefersInOrderUnderCapacity(t *testing.T) {
	cands := []candidate{{AgentID: "a", Load: 5, Max: 5}, {AgentID: "b", Load: 1, Max: 5}, {AgentID: "c", Load: 0, Max: 5}}
	if got, ok := firstOf([]string{"x", "a", "b", "c"}, cands); !ok || got.AgentID != "b" {
		t.Fatalf("firstOf = %q,%v; want b (a is full, x is not a candidate)", got.AgentID, ok)
	}
	if _, ok := firstOf([]string{"x"}, cands); ok {
		t.Fatal("non-candidate preferred")
	}
}
