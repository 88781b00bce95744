package protocol

// The tenant's dictionaries (docs/protocol.md, "Dictionaries"): tags, the
// blacklist and canned replies with their category tree.

// Tag kinds: what a tag labels (UCKeFu tags visitors, conversations and
// work orders with tags of their own).
const (
	TagKindVisitor   = "visitor"
	TagKindSession   = "session"
	TagKindWorkOrder = "workorder"
)

// TagKinds lists the kinds in the order pages show them.
var TagKinds = []string{TagKindSession, TagKindVisitor, TagKindWorkOrder}

// ValidTagKind reports whether kind is one of TagKinds.
func ValidTagKind(kind string) bool {
	return kind == TagKindVisitor || kind == TagKindSession || kind == TagKindWorkOrder
}

// Tag is a tenant's tag.
type Tag struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Color      string `json:"color"` // "#rrggbb", or empty
	Kind       string `json:"kind"`
	CreateTime Time   `json:"createtime"`
}

// TagSet is the tags on one thing (a conversation or a visitor), by id.
type TagSet struct {
	Tags []string `json:"tags"`
}

// BlacklistEntry is one blocked visitor.
type BlacklistEntry struct {
	AppID      string `json:"appid"`
	UserID     string `json:"userid"`
	Nickname   string `json:"nickname"` // the visitor's, when known
	Until      Time   `json:"until"`
	Reason     string `json:"reason"`
	By         string `json:"by"`     // the staff member who blocked (id)
	ByName     string `json:"byname"` // and their name, when known
	Active     bool   `json:"active"` // until is still ahead
	CreateTime Time   `json:"createtime"`
}

// BlacklistPage is a page of the blacklist; Next (when set) is the before
// of the next page.
type BlacklistPage struct {
	Items []BlacklistEntry `json:"items"`
	Next  string           `json:"next,omitempty"`
}

// Canned reply scopes: the tenant's (shared) or the caller's own.
const (
	CannedTenant  = "tenant"
	CannedPrivate = "private"
)

// CannedCategory is a folder of canned replies; Path is its names from the
// root joined by "/".
type CannedCategory struct {
	ID       string `json:"id"`
	ParentID string `json:"parent_id"`
	Name     string `json:"name"`
	Path     string `json:"path"`
	Scope    string `json:"scope"`
	Replies  int    `json:"replies"` // directly in it
}

// CannedReply is a quick reply; Category is its category's path (empty:
// uncategorised).
type CannedReply struct {
	ID         string `json:"id"`
	CategoryID string `json:"category_id"`
	Category   string `json:"category"`
	Title      string `json:"title"`
	Content    string `json:"content"`
	Scope      string `json:"scope"`
}

// CannedImportResult is what a CSV import did: replies created, updated
// and left as they were, categories created, and the rows refused (by
// line of the file, the header being line 1).
type CannedImportResult struct {
	Created    int              `json:"created"`
	Updated    int              `json:"updated"`
	Skipped    int              `json:"skipped"`
	Categories int              `json:"categories"`
	Errors     []CannedRowError `json:"errors"`
}

// CannedRowError is a row of an import that was refused.
type CannedRowError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}
