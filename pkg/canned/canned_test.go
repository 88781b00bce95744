package canned

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

func TestParseQuotesNewlinesCRLFAndBadRows(t *testing.T) {
	file := "\uFEFFcategory,title,content\r\n" +
		"Billing/Refunds,Refund time,\"Refunds take \"\"5\"\" days,\r\nusually.\"\r\n" + // lines 2-3
		"Greetings,,\r\n" + // 4: the category alone
		",Hello,Hi there\r\n" + // 5: uncategorised
		"A/B,,content without a title\r\n" + // 6
		"Too/Many/Levels/Of/Categories/Here/X,t,c\r\n" + // 7
		"only,two\r\n" + // 8
		"'=cat,'-title,'@x\r\n" + // 9: guarded cells
		",,\r\n" + // 10
		"Bad/,t,c\r\n" // 11
	rows, bad, err := Parse([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Line: 2, Path: []string{"Billing", "Refunds"}, Title: "Refund time", Content: "Refunds take \"5\" days,\nusually."},
		{Line: 4, Path: []string{"Greetings"}},
		{Line: 5, Title: "Hello", Content: "Hi there"},
		{Line: 9, Path: []string{"=cat"}, Title: "-title", Content: "@x"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows\n got %+v\nwant %+v", rows, want)
	}
	var lines []int
	for _, e := range bad {
		lines = append(lines, e.Line)
		if e.Message == "" {
			t.Errorf("line %d without a message", e.Line)
		}
	}
	if !reflect.DeepEqual(lines, []int{6, 7, 8, 10, 11}) {
		t.Errorf("bad lines %v (%+v)", lines, bad)
	}
}

func TestParseRefusesWholeFiles(t *testing.T) {
	for name, file := range map[string]string{
		"no header":    "Billing,Refunds,text\n",
		"empty":        "",
		"not UTF-8":    "category,title,content\nA,\xff\xfe,x\n",
		"bare quote":   "category,title,content\nA,\"open,x\n",
		"too many":     "category,title,content\n" + strings.Repeat("A,t,c\n", MaxImportRows+1),
		"extra column": "category,title,content,more\n",
	} {
		if _, _, err := Parse([]byte(file)); protocol.AsError(err).Code != protocol.CodeBadRequest {
			t.Errorf("%s: %v, want bad_request", name, err)
		}
	}
	if _, _, err := Parse([]byte("分类,标题,内容\n问候,你好,您好！\n")); err != nil {
		t.Errorf("the Chinese header: %v", err)
	}
}

func TestExportThenImportGivesTheSame(t *testing.T) {
	cats := []store.CannedCategory{
		{ID: "a", Name: "Billing"}, {ID: "b", ParentID: "a", Name: "Refunds"}, {ID: "e", Name: "Empty"}, {ID: "f", Name: "=Sum"},
	}
	replies := []store.CannedReply{
		{CategoryID: "b", Title: "Refund time", Content: "5 days,\n\"usually\""},
		{CategoryID: "", Title: "-minus", Content: "'=already guarded"},
		{CategoryID: "f", Title: "+plus", Content: "@at"},
	}
	var buf bytes.Buffer
	if err := Export(&buf, NewTree(cats), replies); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "\uFEFFcategory,title,content\n") || strings.Contains(buf.String(), "\n=") {
		t.Fatalf("export:\n%s", buf.String())
	}
	rows, bad, err := Parse(buf.Bytes())
	if err != nil || len(bad) != 0 {
		t.Fatal(err, bad)
	}
	tree := NewTree(nil)
	plan := PlanImport("o2", "", tree, nil, rows, nil)
	if plan.Result.Created != 3 || plan.Result.Categories != 4 || len(plan.Result.Errors) != 0 {
		t.Fatalf("import: %+v", plan.Result)
	}
	got := map[string]string{}
	for _, r := range plan.Create {
		got[tree.Path(r.CategoryID)+"|"+r.Title] = r.Content
	}
	want := map[string]string{"Billing/Refunds|Refund time": "5 days,\n\"usually\"", "|-minus": "'=already guarded", "=Sum|+plus": "@at"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("imported %v, want %v", got, want)
	}
	if _, ok := tree.Child("", "Empty"); !ok {
		t.Error("the empty category was not made")
	}

	// Again over what the first import made: nothing new; a changed
	// content updates; a repeated row is refused with its line.
	existing := append([]store.CannedReply(nil), plan.Create...)
	existing[0].ID = "r0"
	rows = append(rows, Row{Line: 99, Path: rows[0].Path, Title: rows[0].Title, Content: "changed"})
	rows[0].Content = "changed"
	again := PlanImport("o2", "", tree, existing, rows[:len(rows)-1], nil)
	if again.Result.Created != 0 || again.Result.Categories != 0 || again.Result.Updated+again.Result.Skipped != len(rows)-1 {
		t.Errorf("second import: %+v", again.Result)
	}
	dup := PlanImport("o2", "", tree, existing, rows, nil)
	if len(dup.Result.Errors) != 1 || dup.Result.Errors[0].Line != 99 {
		t.Errorf("a repeated row: %+v", dup.Result)
	}
}

func TestCheckPlace(t *testing.T) {
	tree := NewTree([]store.CannedCategory{{ID: "a", Name: "A"}, {ID: "b", ParentID: "a", Name: "B"}, {ID: "c", ParentID: "b", Name: "C"}, {ID: "x", Name: "X"}})
	for _, tc := range []struct {
		id, parent string
		ok         bool
	}{
		{"", "", true}, {"", "c", true}, {"x", "c", true}, {"a", "c", false}, {"a", "a", false}, {"b", "x", true}, {"", "nope", false},
	} {
		if err := tree.CheckPlace(tc.id, tc.parent); (err == nil) != tc.ok {
			t.Errorf("%q under %q: %v", tc.id, tc.parent, err)
		}
	}
	deep := []store.CannedCategory{{ID: "1", Name: "1"}}
	for i := 2; i <= MaxDepth; i++ {
		deep = append(deep, store.CannedCategory{ID: string(rune('0' + i)), ParentID: string(rune('0' + i - 1)), Name: "n"})
	}
	deepTree := NewTree(append(deep, store.CannedCategory{ID: "y", Name: "Y"}))
	if err := deepTree.CheckPlace("", string(rune('0'+MaxDepth))); err == nil {
		t.Error("a level too deep was allowed")
	}
	if err := deepTree.CheckPlace("1", "y"); err == nil {
		t.Error("moving a full-height tree one level down was allowed")
	}
	if got := deepTree.Path("3"); got != "1/n/n" {
		t.Errorf("path %q", got)
	}
}
