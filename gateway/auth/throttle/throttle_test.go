package throttle

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/store"
)

// memStore keeps the counters in a map, as the database would.
type memStore struct {
	rows map[string]store.LoginThrottle
}

func (m *memStore) LoginThrottles(_ context.Context, keys ...string) ([]store.LoginThrottle, error) {
	var out []store.LoginThrottle
	for _, k := range keys {
		if r, ok := m.rows[k]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memStore) ChangeLoginThrottle(_ context.Context, key string, change func(*store.LoginThrottle)) error {
	r, ok := m.rows[key]
	if !ok {
		r = store.LoginThrottle{Key: key}
	}
	change(&r)
	m.rows[key] = r
	return nil
}

func (m *memStore) DeleteLoginThrottle(_ context.Context, key string) error {
	delete(m.rows, key)
	return nil
}

func (m *memStore) DeleteStaleLoginThrottles(context.Context, time.Time, time.Time) (int64, error) {
	return 0, nil
}

func newThrottle(t *testing.T, p Policy) (*Throttle, *memStore, *time.Time) {
	t.Helper()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	st := &memStore{rows: map[string]store.LoginThrottle{}}
	return New(st, p, func() time.Time { return now }), st, &now
}

func TestDefaults(t *testing.T) {
	th, _, _ := newThrottle(t, Policy{AccountFailures: 3})
	if p := th.Policy(); p.AccountFailures != 3 || p.AddressFailures != 20 || p.Window != 15*time.Minute || p.Lockout != 15*time.Minute {
		t.Fatalf("policy = %+v", p)
	}
}

func TestAccountLockout(t *testing.T) {
	ctx := context.Background()
	th, _, now := newThrottle(t, DefaultPolicy())
	for i := 1; i <= 4; i++ {
		if l, started, _ := th.Fail(ctx, "Amy", "10.0.0.1"); l.Locked() || started {
			t.Fatalf("failure %d locked: %+v", i, l)
		}
	}
	l, started, _ := th.Fail(ctx, "amy", "10.0.0.1")
	want := now.Add(15 * time.Minute)
	if !l.Locked() || !l.Account || !started || !l.Until.Equal(want) {
		t.Fatalf("fifth failure: %+v started=%v, want locked until %v", l, started, want)
	}
	// Locked for every address and either case, until the lock ends.
	*now = now.Add(14 * time.Minute)
	if l, _ := th.Check(ctx, "AMY", "10.9.9.9"); !l.Locked() || !l.Account {
		t.Fatalf("check while locked: %+v", l)
	}
	if st, _ := th.Account(ctx, "amy"); st.Failures != 5 || !st.LockedUntil.Equal(want) {
		t.Fatalf("status while locked: %+v", st)
	}
	*now = now.Add(time.Minute)
	if l, _ := th.Check(ctx, "amy", "10.9.9.9"); l.Locked() {
		t.Fatalf("check after the lock: %+v", l)
	}
	if st, _ := th.Account(ctx, "amy"); st != (Status{}) {
		t.Fatalf("status after the lock: %+v", st)
	}
	// After a lock, counting starts afresh.
	if l, _, _ := th.Fail(ctx, "amy", "10.0.0.1"); l.Locked() {
		t.Fatalf("first failure after a lock: %+v", l)
	}
	if st, _ := th.Account(ctx, "amy"); st.Failures != 1 {
		t.Fatalf("failures after a lock: %+v", st)
	}
}

func TestWindowAndSuccess(t *testing.T) {
	ctx := context.Background()
	th, _, now := newThrottle(t, DefaultPolicy())
	// Four failures, then the window passes: they no longer count.
	for range 4 {
		_, _, _ = th.Fail(ctx, "bob", "")
	}
	*now = now.Add(15 * time.Minute)
	if st, _ := th.Account(ctx, "bob"); st.Failures != 0 {
		t.Fatalf("failures after the window: %+v", st)
	}
	for range 4 {
		if l, _, _ := th.Fail(ctx, "bob", ""); l.Locked() {
			t.Fatal("a new window locked early")
		}
	}
	// A success clears the account's count.
	if err := th.Succeed(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if l, _, _ := th.Fail(ctx, "bob", ""); l.Locked() {
			t.Fatal("a success did not clear the count")
		}
	}
	if err := th.Unlock(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if st, _ := th.Account(ctx, "bob"); st.Failures != 0 {
		t.Fatalf("failures after unlock: %+v", st)
	}
}

func TestAddressLockout(t *testing.T) {
	ctx := context.Background()
	th, st, now := newThrottle(t, Policy{AddressFailures: 3})
	for i, name := range []string{"a", "b"} {
		if l, _, _ := th.Fail(ctx, name, "10.0.0.2"); l.Locked() {
			t.Fatalf("failure %d locked", i)
		}
	}
	l, startedAccount, _ := th.Fail(ctx, "c", "10.0.0.2")
	if !l.Locked() || l.Account || startedAccount {
		t.Fatalf("third failure from one address: %+v %v", l, startedAccount)
	}
	// The address is locked for any account, a success included; other
	// addresses are not.
	if l, _ := th.Check(ctx, "d", "10.0.0.2"); !l.Locked() || l.Account {
		t.Fatalf("other account, same address: %+v", l)
	}
	if l, _ := th.Check(ctx, "d", "10.0.0.3"); l.Locked() {
		t.Fatalf("other address: %+v", l)
	}
	_ = th.Succeed(ctx, "d")
	if _, ok := st.rows[AddressKey("10.0.0.2")]; !ok {
		t.Fatal("a success cleared the address's count")
	}
	*now = now.Add(15 * time.Minute)
	if l, _ := th.Check(ctx, "d", "10.0.0.2"); l.Locked() {
		t.Fatalf("after the lock: %+v", l)
	}
}

func TestConcurrentLockKeepsItsEnd(t *testing.T) {
	// Another gateway locked the key after this one checked: the failure
	// neither extends the lock nor claims to have started it.
	ctx := context.Background()
	th, st, now := newThrottle(t, DefaultPolicy())
	until := now.Add(10 * time.Minute)
	st.rows[AccountKey("amy")] = store.LoginThrottle{Key: AccountKey("amy"), Failures: 5, FirstAt: *now, LockedUntil: &until}
	l, started, _ := th.Fail(ctx, "amy", "")
	if !l.Until.Equal(until) || started || st.rows[AccountKey("amy")].Failures != 5 {
		t.Fatalf("fail on a locked key: %+v started=%v row=%+v", l, started, st.rows[AccountKey("amy")])
	}
}

func TestLongUsernameKey(t *testing.T) {
	long := strings.Repeat("客", 500)
	if k := AccountKey(long); k != "user:"+strings.Repeat("客", 64) || AccountKey(strings.ToUpper("Amy")) != "user:amy" {
		t.Fatalf("keys: %q", k)
	}
}
