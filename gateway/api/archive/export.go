package archive

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/archive/listing"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// MaxExport bounds the rows of one CSV export.
const MaxExport = 10000

// exportHeader names the CSV columns; times are UTC.
var exportHeader = []string{
	"agentserviceid", "start_utc", "end_utc", "appid", "userid", "nickname", "name", "phone", "email",
	"skill", "agent", "endby", "rating", "rating_comment", "tags", "score", "messages",
}

// export writes the search's results, newest first, as CSV (see
// listing.CSV).
func (a *API) export(c echo.Context) error {
	f, err := a.filter(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	n, err := a.names(ctx, f.Orgi)
	if err != nil {
		return err
	}
	tags, err := a.Store.ListTags(ctx, f.Orgi)
	if err != nil {
		return err
	}
	tagNames := make(map[string]string, len(tags))
	for _, t := range tags {
		tagNames[t.ID] = t.Name
	}
	w := listing.NewCSV(exportHeader)
	q := store.ArchiveQuery{ArchiveFilter: f}
	for rows := 0; rows < MaxExport; {
		q.Limit = min(store.MaxArchivePage, MaxExport-rows)
		page, err := a.Store.SearchArchive(ctx, q)
		if err != nil {
			return err
		}
		items, err := a.items(ctx, n, page.Sessions)
		if err != nil {
			return err
		}
		for _, it := range items {
			w.Row(exportRow(it, tagNames))
		}
		rows += len(items)
		if page.Next == nil {
			break
		}
		q.Before = page.Next
	}
	return w.Send(c, "kefu-archive")
}

func exportRow(it Item, tagNames map[string]string) []string {
	names := make([]string, len(it.Tags))
	for i, id := range it.Tags {
		names[i] = tagNames[id]
	}
	slices.Sort(names)
	score, rating := "", ""
	if it.Score != nil {
		score = strconv.FormatFloat(*it.Score, 'f', 1, 64)
	}
	if it.Rating > 0 {
		rating = strconv.Itoa(it.Rating)
	}
	return []string{
		it.AgentServiceID, csvTime(it.CreateTime), csvTime(it.EndTime), listing.Cell(it.AppID), listing.Cell(it.UserID),
		listing.Cell(it.Nickname), listing.Cell(it.Name), listing.Cell(it.Phone), listing.Cell(it.Email), listing.Cell(it.SkillName), listing.Cell(it.AgentName),
		it.EndBy, rating, listing.Cell(it.RatingComment), listing.Cell(strings.Join(names, "; ")), score, strconv.FormatInt(it.Messages, 10),
	}
}

func csvTime(t protocol.Time) string {
	if time.Time(t).IsZero() {
		return ""
	}
	return time.Time(t).UTC().Format(time.DateTime)
}
