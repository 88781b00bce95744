package canned

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Limits of one CSV import. The size is under the gateway's 1 MiB body
// limit, so that a file too large is told so with the limit in words.
const (
	MaxImportBytes = 1_000_000
	MaxImportRows  = 5000
)

// Header names the CSV columns: the category path ("A/B"), title and
// content. An import also takes the Chinese names.
var Header = []string{"category", "title", "content"}

var headerZH = []string{"分类", "标题", "内容"}

// bom starts the files: Excel needs it to read UTF-8 (Chinese) right.
const bom = "\uFEFF"

// Ensure returns the category at path names under the tree's top, making
// the missing ones (ids given) for orgi and owner; created lists those,
// parents first, already in the tree.
func (t *Tree) Ensure(orgi, owner string, names []string) (id string, created []store.CannedCategory) {
	for _, name := range names {
		child, ok := t.Child(id, name)
		if !ok {
			c := store.CannedCategory{ID: store.NewID(), Orgi: orgi, Owner: owner, ParentID: id, Name: name}
			t.Add(c)
			created = append(created, c)
			child = c.ID
		}
		id = child
	}
	return id, created
}

// Export writes one owner's replies as CSV, by path and title; a category
// with neither replies nor children is a row of its own (path only), so
// that an import makes the same tree.
func Export(w io.Writer, t *Tree, replies []store.CannedReply) error {
	type row struct{ path, title, content string }
	rows := make([]row, 0, len(replies))
	used := make(map[string]bool, len(replies))
	for _, r := range replies {
		rows = append(rows, row{t.Path(r.CategoryID), r.Title, r.Content})
		used[r.CategoryID] = true
	}
	for _, c := range t.Sorted() {
		if !used[c.ID] && len(t.Children(c.ID)) == 0 {
			rows = append(rows, row{path: t.Path(c.ID)})
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Or(cmp.Compare(a.path, b.path), cmp.Compare(a.title, b.title)) })
	if _, err := io.WriteString(w, bom); err != nil {
		return fmt.Errorf("canned: export: %w", err)
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(Header) // errors stick: Flush and Error report them
	for _, r := range rows {
		_ = cw.Write([]string{cell(r.path), cell(r.title), cell(r.content)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("canned: export: %w", err)
	}
	return nil
}

// formulaStart are the first characters a spreadsheet runs as a formula.
const formulaStart = "=+-@\t\r"

// cell keeps staff text from being run as a formula: a quote goes before a
// leading =, +, -, @, tab or CR, and before quotes already guarding one,
// so that uncell gives the text back exactly.
func cell(s string) string {
	if risky(s) {
		return "'" + s
	}
	return s
}

// risky: s starts with a formula character, after any quotes.
func risky(s string) bool {
	s = strings.TrimLeft(s, "'")
	return s != "" && strings.ContainsRune(formulaStart, rune(s[0]))
}

// uncell undoes cell.
func uncell(s string) string {
	if strings.HasPrefix(s, "'") && risky(s[1:]) {
		return s[1:]
	}
	return s
}

// Row is one row of an import: Line is where it starts in the file (the
// header is line 1). A row with neither title nor content names only its
// category.
type Row struct {
	Line           int
	Path           []string
	Title, Content string
}

// Parse reads an import file: UTF-8 (a byte order mark is dropped), the
// header, then rows of three fields. Rows that break a rule come back as
// row errors; a file that is not CSV, not UTF-8, without the header or
// with more than MaxImportRows rows is refused as a whole (bad_request).
func Parse(data []byte) ([]Row, []protocol.CannedRowError, error) {
	data = bytes.TrimPrefix(data, []byte(bom))
	if !utf8.Valid(data) {
		return nil, nil, protocol.Errorf(protocol.CodeBadRequest, "the file is not UTF-8 text: save it as \"CSV UTF-8\"")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // counted here, to report the row and go on
	head, err := r.Read()
	if err != nil {
		return nil, nil, protocol.Errorf(protocol.CodeBadRequest, "line 1: the header %s is missing", strings.Join(Header, ","))
	}
	if !isHeader(head) {
		return nil, nil, protocol.Errorf(protocol.CodeBadRequest, "line 1: the header must be %s", strings.Join(Header, ","))
	}
	var rows []Row
	var bad []protocol.CannedRowError
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, nil, protocol.Errorf(protocol.CodeBadRequest, "line %d: not valid CSV: %v", pe.StartLine, pe.Err)
		}
		if err != nil {
			return nil, nil, protocol.Errorf(protocol.CodeBadRequest, "not valid CSV: %v", err)
		}
		if len(rows)+len(bad) == MaxImportRows {
			return nil, nil, protocol.Errorf(protocol.CodeBadRequest, "a file has at most %d rows", MaxImportRows)
		}
		line, _ := r.FieldPos(0)
		row, err := readRow(line, rec)
		if err != nil {
			bad = append(bad, protocol.CannedRowError{Line: line, Message: protocol.AsError(err).Message})
			continue
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func isHeader(rec []string) bool {
	if len(rec) != len(Header) {
		return false
	}
	for i, f := range rec {
		f = strings.TrimSpace(f)
		if !strings.EqualFold(f, Header[i]) && f != headerZH[i] {
			return false
		}
	}
	return true
}

func readRow(line int, rec []string) (Row, error) {
	if len(rec) != len(Header) {
		return Row{}, protocol.Errorf(protocol.CodeBadRequest, "%d fields, not %d (%s)", len(rec), len(Header), strings.Join(Header, ","))
	}
	path, err := SplitPath(uncell(rec[0]))
	if err != nil {
		return Row{}, err
	}
	row := Row{Line: line, Path: path}
	title, content := strings.TrimSpace(uncell(rec[1])), strings.TrimSpace(uncell(rec[2]))
	if title == "" && content == "" {
		if len(path) == 0 {
			return Row{}, protocol.Errorf(protocol.CodeBadRequest, "the row is empty")
		}
		return row, nil
	}
	if row.Title, row.Content, err = CheckReply(title, content); err != nil {
		return Row{}, err
	}
	return row, nil
}

// Plan is what an import will write, and its answer.
type Plan struct {
	Categories []store.CannedCategory // to create, parents first
	Create     []store.CannedReply
	Update     []store.CannedReply // with their new content
	Result     protocol.CannedImportResult
}

// PlanImport matches rows against one owner's tree (which gains the
// categories the plan makes) and replies: a reply is the same one when its
// category and title are; the same one with other content is updated, with
// the same content skipped. Two rows naming the same reply are an error
// on the second.
func PlanImport(orgi, owner string, t *Tree, existing []store.CannedReply, rows []Row, bad []protocol.CannedRowError) Plan {
	key := func(categoryID, title string) string { return categoryID + "\x00" + title }
	have := make(map[string]store.CannedReply, len(existing))
	for _, r := range existing {
		have[key(r.CategoryID, r.Title)] = r
	}
	p := Plan{Result: protocol.CannedImportResult{Errors: append([]protocol.CannedRowError{}, bad...)}}
	seen := make(map[string]int, len(rows))
	for _, row := range rows {
		id, made := t.Ensure(orgi, owner, row.Path)
		p.Categories = append(p.Categories, made...)
		p.Result.Categories += len(made)
		if row.Title == "" {
			if len(made) == 0 {
				p.Result.Skipped++
			}
			continue
		}
		k := key(id, row.Title)
		if first, dup := seen[k]; dup {
			p.Result.Errors = append(p.Result.Errors, protocol.CannedRowError{Line: row.Line, Message: fmt.Sprintf("the same category and title as line %d", first)})
			continue
		}
		seen[k] = row.Line
		switch old, ok := have[k]; {
		case !ok:
			p.Create = append(p.Create, store.CannedReply{Orgi: orgi, Owner: owner, CategoryID: id, Title: row.Title, Content: row.Content})
			p.Result.Created++
		case old.Content == row.Content:
			p.Result.Skipped++
		default:
			old.Content = row.Content
			p.Update = append(p.Update, old)
			p.Result.Updated++
		}
	}
	slices.SortFunc(p.Result.Errors, func(a, b protocol.CannedRowError) int { return cmp.Compare(a.Line, b.Line) })
	return p
}
