// Package canned holds the rules of canned replies beyond storing them: the
// category tree (names, paths, moves) and the CSV form (export, and imports
// planned against what exists). It neither reads nor writes the store.
package canned

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Limits of categories and replies.
const (
	MaxName    = 64 // characters of a category name
	MaxDepth   = 6  // levels of a tree
	MaxTitle   = 128
	MaxContent = 2000
)

// Sep joins a category path's names.
const Sep = "/"

// Tree is one owner's categories (the tenant's or an agent's).
type Tree struct {
	byID map[string]store.CannedCategory
	kids map[string][]string // parent id ("" for the roots) → child ids
}

// NewTree indexes cats, all of one owner.
func NewTree(cats []store.CannedCategory) *Tree {
	t := &Tree{byID: make(map[string]store.CannedCategory, len(cats)), kids: make(map[string][]string)}
	for _, c := range cats {
		t.Add(c)
	}
	return t
}

// Add puts c in the tree (a category just created).
func (t *Tree) Add(c store.CannedCategory) {
	t.byID[c.ID] = c
	t.kids[c.ParentID] = append(t.kids[c.ParentID], c.ID)
}

// Get returns the category with id.
func (t *Tree) Get(id string) (store.CannedCategory, bool) {
	c, ok := t.byID[id]
	return c, ok
}

// Path is the names from the root down to id, joined by Sep ("" for none).
func (t *Tree) Path(id string) string {
	var names []string
	for c, ok := t.byID[id]; ok && len(names) <= MaxDepth*2; c, ok = t.byID[c.ParentID] {
		names = append(names, c.Name)
	}
	slices.Reverse(names)
	return strings.Join(names, Sep)
}

// Child finds parent's child named name (ignoring case, as the store's
// uniqueness does).
func (t *Tree) Child(parent, name string) (string, bool) {
	for _, id := range t.kids[parent] {
		if strings.EqualFold(t.byID[id].Name, name) {
			return id, true
		}
	}
	return "", false
}

// Children returns parent's child ids.
func (t *Tree) Children(parent string) []string { return t.kids[parent] }

// Within reports whether id is ancestor or one of its descendants.
func (t *Tree) Within(id, ancestor string) bool {
	for depth := 0; id != "" && depth <= MaxDepth*2; depth++ {
		if id == ancestor {
			return true
		}
		id = t.byID[id].ParentID
	}
	return false
}

// depth is how many levels down id is (1 for a root, 0 for none).
func (t *Tree) depth(id string) int {
	n := 0
	for c, ok := t.byID[id]; ok && n <= MaxDepth*2; c, ok = t.byID[c.ParentID] {
		n++
	}
	return n
}

// height is how many levels id's subtree has, itself included.
func (t *Tree) height(id string) int {
	h := 0
	for _, k := range t.kids[id] {
		h = max(h, t.height(k))
	}
	return h + 1
}

// Sorted returns the categories in path order: parents before their
// children, siblings by name.
func (t *Tree) Sorted() []store.CannedCategory {
	var out []store.CannedCategory
	var walk func(parent string)
	walk = func(parent string) {
		kids := slices.Clone(t.kids[parent])
		slices.SortFunc(kids, func(a, b string) int {
			return cmp.Or(cmp.Compare(strings.ToLower(t.byID[a].Name), strings.ToLower(t.byID[b].Name)), cmp.Compare(a, b))
		})
		for _, id := range kids {
			out = append(out, t.byID[id])
			walk(id)
		}
	}
	walk("")
	return out
}

// CheckName trims a category name and checks it: 1 to MaxName characters,
// no Sep, no control characters.
func CheckName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0 || n > MaxName:
		return "", protocol.Errorf(protocol.CodeBadRequest, "a category name must be 1 to %d characters", MaxName)
	case strings.Contains(name, Sep):
		return "", protocol.Errorf(protocol.CodeBadRequest, "a category name cannot contain %q (it separates the levels of a path)", Sep)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", protocol.Errorf(protocol.CodeBadRequest, "a category name cannot contain control characters")
	}
	return name, nil
}

// SplitPath reads a path "A/B" into checked names (none for "").
func SplitPath(path string) ([]string, error) {
	if strings.TrimSpace(path) == "" {
		return nil, nil
	}
	parts := strings.Split(path, Sep)
	if len(parts) > MaxDepth {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "a category path has at most %d levels", MaxDepth)
	}
	for i, p := range parts {
		name, err := CheckName(p)
		if err != nil {
			return nil, err
		}
		parts[i] = name
	}
	return parts, nil
}

// CheckPlace checks that id (empty: a new category) may sit under parent
// ("" for the top): parent is in the tree, is not id nor below it, and the
// tree stays at most MaxDepth deep.
func (t *Tree) CheckPlace(id, parent string) error {
	if parent != "" {
		if _, ok := t.byID[parent]; !ok {
			return protocol.Errorf(protocol.CodeBadRequest, "parent_id is not a category of the same scope")
		}
	}
	height := 1
	if id != "" {
		if parent != "" && t.Within(parent, id) {
			return protocol.Errorf(protocol.CodeBadRequest, "a category cannot move into itself or below itself")
		}
		height = t.height(id)
	}
	if t.depth(parent)+height > MaxDepth {
		return protocol.Errorf(protocol.CodeBadRequest, "categories nest at most %d levels", MaxDepth)
	}
	return nil
}

// CheckReply trims a reply's title and content and checks their lengths.
func CheckReply(title, content string) (string, string, error) {
	title, content = strings.TrimSpace(title), strings.TrimSpace(content)
	switch {
	case title == "" || utf8.RuneCountInString(title) > MaxTitle:
		return "", "", protocol.Errorf(protocol.CodeBadRequest, "title must be 1 to %d characters", MaxTitle)
	case content == "" || utf8.RuneCountInString(content) > MaxContent:
		return "", "", protocol.Errorf(protocol.CodeBadRequest, "content must be 1 to %d characters", MaxContent)
	}
	return title, content, nil
}
