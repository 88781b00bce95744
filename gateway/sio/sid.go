package sio

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
)

// nodeIDPattern restricts node ids to characters that survive URLs, log
// lines and load-balancer routing rules without escaping. The dot is
// excluded because it separates the node id from the random part.
var nodeIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// sidGenerator implements the library's session.IDGenerator.
//
// The library's default generator counts 1, 2, 3…, which makes session ids
// guessable (a polling request only needs the sid to read or inject another
// client's traffic) and collide between nodes. Ours is
// "<node>.<22 chars of base64url(16 random bytes)>": the node prefix lets a
// load balancer route polling requests by the first field of the sid query
// parameter, and 128 random bits make ids unpredictable and unique across the
// cluster without coordination.
type sidGenerator struct {
	prefix string // node id plus "."
}

func newSIDGenerator(nodeID string) (*sidGenerator, error) {
	if !nodeIDPattern.MatchString(nodeID) {
		return nil, fmt.Errorf("sio: node id %q must match %s", nodeID, nodeIDPattern)
	}
	return &sidGenerator{prefix: nodeID + "."}, nil
}

// NewID implements session.IDGenerator.
func (g *sidGenerator) NewID() string {
	var b [16]byte
	// crypto/rand.Read never returns an error since Go 1.24 (it aborts the
	// program instead), so there is no weak fallback path to get wrong.
	_, _ = rand.Read(b[:])
	return g.prefix + base64.RawURLEncoding.EncodeToString(b[:])
}
