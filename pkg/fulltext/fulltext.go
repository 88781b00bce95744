// Package fulltext is the tokenizer of Kefu's own inverted index, the
// archive's full-text search. It exists because neither backend offers one
// that fits: MariaDB's FULLTEXT has no parser for Chinese (no ngram), and
// SQLite's FTS5 is a build option. Our index is plain rows, (tenant, term
// hash, conversation), so it behaves the same on both.
//
// Text is normalised — NFKC, which folds full-width forms to half-width
// (and half-width katakana to full-width), then lower case — and split:
//   - a run of letters, digits and combining marks of any script other than
//     the CJK ones is a word;
//   - a run of Han, Hiragana, Katakana or Hangul characters, which put no
//     spaces between words, becomes its overlapping bigrams (一二三 → 一二,
//     二三); a lone CJK character stays a unigram;
//   - everything else (spaces, punctuation, symbols, emoji) separates terms.
//
// Nothing else is dropped: no stop words, no minimum length.
//
// A query matches a document when every term of the query is among the
// document's terms. That is looser than a substring match: the words of
// "ship to oslo" may be far apart, the bigrams of 一二三 may come from 一二
// and 二三 in different places, "50%" matches "50 cents". A Query that is not
// Exact must therefore be confirmed against the text itself. And it is
// stricter in one way: Latin words match whole words only ("ship" does not
// find "shipping"), and one CJK character finds only a lone one.
package fulltext

import (
	"hash/fnv"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize is the form text is indexed and searched in.
func Normalize(s string) string {
	return strings.ToLower(norm.NFKC.String(s))
}

// Terms returns the distinct terms of s, in the order they first appear.
func Terms(s string) []string {
	var t tokenizer
	t.add(Normalize(s))
	return t.terms
}

// Hash is a term's key in the index: the 64 bits of its FNV-1a hash. Two
// terms sharing a hash would only make a search look at a conversation it
// then confirms or, for an exact one-term query, show it; at 64 bits that
// does not happen in practice.
func Hash(term string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(term)) // a hash.Hash never fails to write
	return int64(h.Sum64())
}

// Hashes returns the distinct term hashes of all the texts, sorted: one
// conversation's entry in the index.
func Hashes(texts []string) []int64 {
	var t tokenizer
	for _, s := range texts {
		t.add(Normalize(s))
	}
	out := make([]int64, len(t.terms))
	for i, term := range t.terms {
		out[i] = Hash(term)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Query is a search text taken apart.
type Query struct {
	// Terms are the query's distinct terms (none: nothing to search for).
	Terms []string
	// Exact: the query is one bare term, so the index alone answers it;
	// otherwise every candidate must contain Phrase.
	Exact bool
	// Phrase is the query as typed, trimmed, its blank runs made single
	// spaces: what a confirmed match contains.
	Phrase string
}

// ParseQuery takes a search text apart.
func ParseQuery(q string) Query {
	phrase := strings.Join(strings.Fields(q), " ")
	terms := Terms(phrase)
	return Query{Terms: terms, Exact: len(terms) == 1 && Normalize(phrase) == terms[0], Phrase: phrase}
}

type tokenizer struct {
	terms []string
	seen  map[string]bool
}

func (t *tokenizer) emit(term string) {
	if t.seen == nil {
		t.seen = make(map[string]bool)
	}
	if !t.seen[term] {
		t.seen[term] = true
		t.terms = append(t.terms, term)
	}
}

// add splits normalised text s into its terms.
func (t *tokenizer) add(s string) {
	start, kind := 0, none
	flush := func(end int) {
		switch kind {
		case word:
			t.emit(s[start:end])
		case cjk:
			t.bigrams(s[start:end])
		}
	}
	for i, r := range s {
		k := classOf(r)
		if k != kind {
			flush(i)
			start, kind = i, k
		}
	}
	flush(len(s))
}

// bigrams emits a CJK run's overlapping pairs, or the run itself when it is
// one character.
func (t *tokenizer) bigrams(run string) {
	if _, n := utf8.DecodeRuneInString(run); n == len(run) {
		t.emit(run)
		return
	}
	for i := 0; ; {
		_, a := utf8.DecodeRuneInString(run[i:])
		_, b := utf8.DecodeRuneInString(run[i+a:])
		if b == 0 {
			return
		}
		t.emit(run[i : i+a+b])
		i += a
	}
}

type class uint8

const (
	none class = iota
	word
	cjk
)

func classOf(r rune) class {
	switch {
	case isCJK(r):
		return cjk
	case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r):
		return word
	}
	return none
}

// isCJK: the scripts written without spaces between words. The katakana
// prolonged sound mark (ー, script Common) belongs inside katakana words.
func isCJK(r rune) bool {
	return r == 'ー' || unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}
