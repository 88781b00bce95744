package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

const (
	orgi     = "bench"
	password = "bench-pass"
	// worldKey is the setting the seed leaves for -measure-only.
	worldKey = "seedarchive:world"
)

// world is what the seed made that the measurements pick from.
type world struct {
	Sites       []string          `json:"sites"`
	Skills      []string          `json:"skills"`
	Agents      []string          `json:"agents"`      // usernames, agent i is "agent<i>"
	AgentIDs    []string          `json:"agentids"`    // same order
	Supervisors map[string]string `json:"supervisors"` // skill → username
	Tags        []string          `json:"tags"`
	Rare        []string          `json:"rare"` // made-up words in 5 to 50 chats
}

func loadWorld(ctx context.Context, st *store.Store) (*world, error) {
	v, err := st.Setting(ctx, worldKey, func() (string, error) { return "", fmt.Errorf("no seed in this database: run without -measure-only") })
	if err != nil {
		return nil, err
	}
	var w world
	if err := json.Unmarshal([]byte(v), &w); err != nil {
		return nil, fmt.Errorf("%s: %w", worldKey, err)
	}
	return &w, nil
}

var (
	givenEN = []string{"Anna", "Ben", "Carla", "David", "Emma", "Felix", "Grace", "Henry", "Iris", "Jack", "Lena", "Mia", "Noah", "Olga", "Paul"}
	givenZH = []string{"王伟", "李娜", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄婷", "周杰", "吴芳", "徐明", "孙丽"}
	endBys  = []string{protocol.EndByAgent, protocol.EndByAgent, protocol.EndByAgent, protocol.EndByUser, protocol.EndByUser, protocol.EndByTimeout, protocol.EndBySupervisor}
)

// seed makes the tenant and its people, then the conversations, generated
// by one goroutine and inserted by two.
func seed(ctx context.Context, st *store.Store, c config, r *rand.Rand, out io.Writer) (*world, error) {
	start := time.Now()
	w := &world{Supervisors: map[string]string{}}
	if err := st.CreateTenant(ctx, &store.Tenant{ID: orgi, Name: "Benchmark"}); err != nil {
		return nil, err
	}
	for i := range c.sites {
		s := store.Site{AppID: fmt.Sprintf("site%02d", i), Orgi: orgi, Name: fmt.Sprintf("Site %d", i)}
		if err := st.CreateSite(ctx, &s); err != nil {
			return nil, err
		}
		w.Sites = append(w.Sites, s.AppID)
	}
	for i := range c.skills {
		g := store.SkillGroup{Orgi: orgi, Name: fmt.Sprintf("Group %d", i)}
		if err := st.CreateSkill(ctx, &g); err != nil {
			return nil, err
		}
		w.Skills = append(w.Skills, g.ID)
	}
	hash, err := identity.HashPassword(password)
	if err != nil {
		return nil, err
	}
	person := func(username, roles string, skills []string) (string, error) {
		a := store.Agent{Orgi: orgi, Username: username, PasswordHash: hash, Nickname: username, Roles: roles}
		err := st.CreateAgent(ctx, &a, skills)
		return a.ID, err
	}
	if _, err := person("benchadmin", protocol.RoleAdmin, nil); err != nil {
		return nil, err
	}
	agentSkills := make([][]string, c.agents)
	for i := range c.agents {
		agentSkills[i] = []string{w.Skills[i%c.skills]}
		if i%3 == 0 {
			agentSkills[i] = append(agentSkills[i], w.Skills[(i+1)%c.skills])
		}
		id, err := person(fmt.Sprintf("agent%d", i), protocol.RoleAgent, agentSkills[i])
		if err != nil {
			return nil, err
		}
		w.Agents, w.AgentIDs = append(w.Agents, fmt.Sprintf("agent%d", i)), append(w.AgentIDs, id)
	}
	for i, g := range w.Skills {
		name := fmt.Sprintf("sup%d", i)
		if _, err := person(name, protocol.RoleSupervisor, []string{g}); err != nil {
			return nil, err
		}
		w.Supervisors[g] = name
	}
	for i := range c.tags {
		t := store.Tag{Orgi: orgi, Name: fmt.Sprintf("tag %d", i)}
		if err := st.CreateTag(ctx, &t); err != nil {
			return nil, err
		}
		w.Tags = append(w.Tags, t.ID)
	}

	chunks := make(chan chunk, 4)
	errc := make(chan error, 2)
	for range 2 {
		go func() {
			var err error
			for ch := range chunks {
				if err == nil {
					err = ch.insert(ctx, st)
				}
			}
			errc <- err
		}()
	}
	tx := newTexts(r, c.tailSize)
	now := time.Now().UTC()
	var messages int
	for done := 0; done < c.sessions; done += 1000 {
		ch := generate(r, tx, w, agentSkills, c, now, min(1000, c.sessions-done))
		messages += len(ch.messages)
		select {
		case chunks <- ch:
		case <-ctx.Done():
		}
	}
	close(chunks)
	for range 2 {
		if ierr := <-errc; ierr != nil && err == nil {
			err = ierr
		}
	}
	if err != nil {
		return nil, err
	}
	for word, n := range tx.counted {
		if n >= 5 && n <= 50 && len(w.Rare) < 200 {
			w.Rare = append(w.Rare, word)
		}
	}
	slices.Sort(w.Rare)
	data, _ := json.Marshal(w) // plain strings and maps: nothing fails to marshal
	if _, err := st.Setting(ctx, worldKey, func() (string, error) { return string(data), nil }); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "seeded %d conversations, %d messages in %s\n", c.sessions, messages, time.Since(start).Round(time.Second))
	return w, nil
}

// chunk is a batch of generated rows.
type chunk struct {
	sessions []store.Session
	messages []store.Message
	tags     []store.SessionTag
	reviews  []store.QualityReview
}

func (ch chunk) insert(ctx context.Context, st *store.Store) error {
	db := st.DB().WithContext(ctx)
	for _, rows := range []any{&ch.sessions, &ch.messages, &ch.tags, &ch.reviews} {
		if err := db.CreateInBatches(rows, 500).Error; err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	return nil
}

func generate(r *rand.Rand, tx *texts, w *world, agentSkills [][]string, c config, now time.Time, n int) chunk {
	var ch chunk
	span := time.Duration(c.days) * 24 * time.Hour
	for range n {
		end := now.Add(-time.Duration(r.Int64N(int64(span)))).Truncate(time.Millisecond)
		length := time.Duration(2+r.IntN(40)) * time.Minute
		begin := end.Add(-length)
		s := store.Session{
			ID: store.NewID(), Orgi: orgi, AppID: w.Sites[r.IntN(len(w.Sites))], UserID: store.NewID(), Status: protocol.SessionEnd,
			CreatedAt: begin, UpdatedAt: end, EndTime: &end, EndBy: endBys[r.IntN(len(endBys))],
		}
		lang := r.IntN(10) // 0-3 English, 4-8 Chinese, 9 both
		if lang < 4 {
			s.Nickname = givenEN[r.IntN(len(givenEN))] + " " + strconv.Itoa(r.IntN(1000))
		} else {
			s.Nickname = givenZH[r.IntN(len(givenZH))]
		}
		if r.IntN(2) == 0 {
			s.Name = s.Nickname
		}
		if r.IntN(3) == 0 {
			s.Email = fmt.Sprintf("user%d@example.com", r.IntN(1_000_000))
		}
		if r.IntN(3) == 0 {
			s.Phone = fmt.Sprintf("+86 13%d %04d %04d", r.IntN(10), r.IntN(10000), r.IntN(10000))
		}
		if r.IntN(20) == 0 { // waited for nobody and gave up
			s.EndBy = protocol.EndByQueue
		} else {
			a := r.IntN(len(w.AgentIDs))
			s.AgentNo = w.AgentIDs[a]
			s.ServiceTime = &begin
			if r.IntN(5) != 0 {
				s.Skill = agentSkills[a][r.IntN(len(agentSkills[a]))]
			}
			if r.IntN(5) < 2 {
				s.SatisLevel = 1 + r.IntN(5)
			}
		}
		tx.chat()
		k := max(1, c.messages/2+r.IntN(c.messages+1))
		if s.AgentNo == "" {
			k = 1 + r.IntN(2)
		}
		for i := range k {
			call := protocol.CallTypeIn
			if i%2 == 1 && s.AgentNo != "" {
				call = protocol.CallTypeOut
			}
			ch.messages = append(ch.messages, store.Message{
				ID: store.NewID(), SessionID: s.ID, Seq: int64(i + 1), ClientID: "seed-" + strconv.Itoa(i), Orgi: orgi, AppID: s.AppID,
				USession: s.UserID, Type: protocol.TypeMessage, MsgType: protocol.MsgTypeText, CallType: call,
				Body: tx.message(min(lang/4, 2)), UserID: s.UserID, CreatedAt: begin.Add(time.Duration(i) * length / time.Duration(k)),
			})
		}
		s.LastSeq = int64(k)
		if r.IntN(5) == 0 {
			ch.tags = append(ch.tags, store.SessionTag{SessionID: s.ID, TagID: w.Tags[r.IntN(len(w.Tags))]})
		}
		if s.AgentNo != "" && r.IntN(50) == 0 {
			score := r.IntN(6)
			ch.reviews = append(ch.reviews, store.QualityReview{
				SessionID: s.ID, Orgi: orgi, AgentNo: s.AgentNo, ReviewerID: "bench", ReviewerName: "Bench", Score: float64(score * 20),
				Items: fmt.Sprintf(`[{"item":"tone","name":"Tone","weight":1,"score":%d}]`, score), CreatedAt: end, UpdatedAt: end,
			})
		}
		ch.sessions = append(ch.sessions, s)
	}
	return ch
}
