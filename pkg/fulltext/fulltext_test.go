package fulltext

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ,.!? ", nil},
		{"Hello, World! hello", []string{"hello", "world"}},
		{"Order #A-1234 shipped", []string{"order", "a", "1234", "shipped"}},
		{"ＡＢＣ１２３ full-width", []string{"abc123", "full", "width"}},
		{"50% off_today", []string{"50", "off", "today"}},
		{"你好", []string{"你好"}},
		{"我要退货", []string{"我要", "要退", "退货"}},
		{"好", []string{"好"}},
		{"好 的", []string{"好", "的"}},
		{"iPhone手机壳", []string{"iphone", "手机", "机壳"}},
		{"退货退货", []string{"退货", "货退"}},
		{"コーヒー", []string{"コー", "ーヒ", "ヒー"}},
		{"ｺｰﾋｰ", []string{"コー", "ーヒ", "ヒー"}}, // half-width katakana folded
		{"안녕하세요", []string{"안녕", "녕하", "하세", "세요"}},
		{"Straße ПРИВЕТ café", []string{"straße", "привет", "café"}},
		{"cafe\u0301", []string{"café"}}, // composed
		{"emoji 🎉 party", []string{"emoji", "party"}},
		{"a\u00a0b\tc\nd", []string{"a", "b", "c", "d"}},
		{"①②", []string{"12"}},
	} {
		if got := Terms(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Terms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		in     string
		terms  []string
		exact  bool
		phrase string
	}{
		{"Norway", []string{"norway"}, true, "Norway"},
		{"  ＮＯＲＷＡＹ ", []string{"norway"}, true, "ＮＯＲＷＡＹ"},
		{"ship  to\tnorway", []string{"ship", "to", "norway"}, false, "ship to norway"},
		{"50%", []string{"50"}, false, "50%"},
		{"a_b", []string{"a", "b"}, false, "a_b"},
		{"退货", []string{"退货"}, true, "退货"},
		{"我要退货", []string{"我要", "要退", "退货"}, false, "我要退货"},
		{"%%", nil, false, "%%"},
	} {
		q := ParseQuery(tc.in)
		if !slices.Equal(q.Terms, tc.terms) || q.Exact != tc.exact || q.Phrase != tc.phrase {
			t.Errorf("ParseQuery(%q) = %+v, want terms %q exact %v phrase %q", tc.in, q, tc.terms, tc.exact, tc.phrase)
		}
	}
}

func TestHashes(t *testing.T) {
	got := Hashes([]string{"Hello world", "WORLD peace", "你好"})
	want := []int64{Hash("hello"), Hash("world"), Hash("peace"), Hash("你好")}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Hashes = %v, want %v", got, want)
	}
	if Hash("a") == Hash("b") || Hash("") == Hash("a") {
		t.Fatal("distinct terms share a hash")
	}
	// The hash is part of the stored index: it must never change.
	if h := Hash("hello"); h != -6615550055289275125 {
		t.Fatalf(`Hash("hello") = %d: the index's hash changed`, h)
	}
}

// A document always matches a query made of a whole stretch of its words:
// what a search for something copied from a chat relies on.
func TestQueryOfADocumentMatchesIt(t *testing.T) {
	doc := "Hi! I want to return my 茶壶 (teapot), order 42 — 我要退货。"
	terms := Terms(doc)
	for _, q := range []string{"return my", "茶壶", "我要退货", "order", "42", "TEAPOT", "want to return"} {
		for _, term := range ParseQuery(q).Terms {
			if !slices.Contains(terms, term) {
				t.Errorf("query %q: term %q not among the document's %q", q, term, terms)
			}
		}
	}
}

func FuzzTerms(f *testing.F) {
	for _, s := range []string{"", "Hello, World!", "我要退货", "ｺｰﾋｰ and ＡＢＣ", "50%_off", "a\u0301\u0301", "\xff\xfe", "好", "İstanbul ǅ ﬁ", "ℌ①"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		terms := Terms(s)
		norm := Normalize(s)
		seen := map[string]bool{}
		for _, term := range terms {
			if term == "" || seen[term] {
				t.Fatalf("Terms(%q): empty or repeated term %q in %q", s, term, terms)
			}
			seen[term] = true
			if utf8.ValidString(s) && !utf8.ValidString(term) {
				t.Fatalf("Terms(%q): invalid UTF-8 term %q", s, term)
			}
			if !strings.Contains(norm, term) {
				t.Fatalf("Terms(%q): term %q is not in the normalised text %q", s, term, norm)
			}
		}
		q := ParseQuery(s)
		if q.Exact && len(q.Terms) != 1 {
			t.Fatalf("ParseQuery(%q): exact with %d terms", s, len(q.Terms))
		}
		_ = Hashes([]string{s, s})
	})
}
