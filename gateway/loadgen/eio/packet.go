package eio

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Engine.IO 3 packet types (the first character of every packet).
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
	eioNoop    = '6'
)

// Socket.IO 2 packet types (the character after eioMessage).
const (
	sioConnect     = '0'
	sioDisconnect  = '1'
	sioEvent       = '2'
	sioAck         = '3'
	sioError       = '4'
	sioBinaryEvent = '5'
	sioBinaryAck   = '6'
)

// openPacket is the Engine.IO OPEN packet's JSON.
type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"` // milliseconds
	PingTimeout  int64    `json:"pingTimeout"`  // milliseconds
}

func parseOpen(p string) (openPacket, error) {
	var o openPacket
	if p == "" || p[0] != eioOpen {
		return o, fmt.Errorf("eio: expected an OPEN packet, got %.60q", p)
	}
	if err := json.Unmarshal([]byte(p[1:]), &o); err != nil {
		return o, fmt.Errorf("eio: OPEN packet %.60q: %w", p, err)
	}
	if o.SID == "" {
		return o, fmt.Errorf("eio: OPEN packet without sid: %.60q", p)
	}
	return o, nil
}

// sioPacket is a decoded Socket.IO 2 packet.
type sioPacket struct {
	typ   byte
	nsp   string // "" for the root namespace
	id    int64  // -1 when absent
	hasID bool
	data  string // the JSON that follows (arguments, error, ...)
}

// parseSIO decodes a Socket.IO 2 packet (an Engine.IO MESSAGE without its
// type byte): `<type>[/nsp,][id][json]`.
func parseSIO(m string) (sioPacket, error) {
	p := sioPacket{id: -1}
	if m == "" {
		return p, errors.New("eio: empty Socket.IO packet")
	}
	p.typ = m[0]
	rest := m[1:]
	if (p.typ == sioBinaryEvent || p.typ == sioBinaryAck) && rest != "" {
		// "<attachments>-" precedes the namespace; we never ask for binary.
		if i := strings.IndexByte(rest, '-'); i >= 0 {
			rest = rest[i+1:]
		}
	}
	if strings.HasPrefix(rest, "/") {
		// The namespace ends at ',' (socket.io 4 always writes one; the
		// Go library only when something follows) or, in CONNECT packets
		// of v2 clients, at '?' (its query).
		end := strings.IndexAny(rest, ",?")
		if end < 0 {
			p.nsp, rest = rest, ""
		} else {
			p.nsp, rest = rest[:end], rest[end:]
			if rest[0] == '?' {
				if i := strings.IndexByte(rest, ','); i >= 0 {
					rest = rest[i:]
				} else {
					rest = ""
				}
			}
			rest = strings.TrimPrefix(rest, ",")
		}
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i > 0 {
		id, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return p, fmt.Errorf("eio: packet id in %.60q: %w", m, err)
		}
		p.id, p.hasID = id, true
	}
	p.data = rest[i:]
	return p, nil
}

// eventArgs splits an EVENT packet's JSON array into its name and first
// argument (nil when there is none).
func eventArgs(data string) (string, json.RawMessage, error) {
	var args []json.RawMessage
	if err := json.Unmarshal([]byte(data), &args); err != nil {
		return "", nil, fmt.Errorf("eio: event arguments %.60q: %w", data, err)
	}
	if len(args) == 0 {
		return "", nil, errors.New("eio: event without a name")
	}
	var name string
	if err := json.Unmarshal(args[0], &name); err != nil {
		return "", nil, fmt.Errorf("eio: event name %.60q: %w", args[0], err)
	}
	if len(args) < 2 {
		return name, nil, nil
	}
	return name, args[1], nil
}

// ackArg returns the first argument of an ACK packet's JSON array.
func ackArg(data string) (json.RawMessage, error) {
	var args []json.RawMessage
	if err := json.Unmarshal([]byte(data), &args); err != nil {
		return nil, fmt.Errorf("eio: ack arguments %.60q: %w", data, err)
	}
	if len(args) == 0 {
		return nil, nil
	}
	return args[0], nil
}

// encodeEvent builds the Engine.IO MESSAGE carrying a Socket.IO EVENT:
// `42[/nsp,][id]["event",arg]`. id < 0 means no acknowledgement.
func encodeEvent(nsp string, id int64, event string, arg json.RawMessage) string {
	name, _ := json.Marshal(event) // a string always marshals
	var b strings.Builder
	b.Grow(len(nsp) + len(name) + len(arg) + 24)
	b.WriteByte(eioMessage)
	b.WriteByte(sioEvent)
	if nsp != "" {
		b.WriteString(nsp)
		b.WriteByte(',')
	}
	if id >= 0 {
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte('[')
	b.Write(name)
	if arg != nil {
		b.WriteByte(',')
		b.Write(arg)
	}
	b.WriteByte(']')
	return b.String()
}

// encodePayload frames packets for a polling POST:
// `<length>:<packet>` repeated, the length in UTF-16 code units.
func encodePayload(pkts []string) string {
	var b strings.Builder
	for _, p := range pkts {
		b.WriteString(strconv.Itoa(utf16Len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

// decodePayload splits a polling response into its packets.
func decodePayload(s string) ([]string, error) {
	var out []string
	for len(s) > 0 {
		colon := strings.IndexByte(s, ':')
		if colon <= 0 || colon > 10 {
			return nil, fmt.Errorf("eio: payload without a length prefix: %.60q", s)
		}
		n, err := strconv.Atoi(s[:colon])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("eio: payload length %q", s[:colon])
		}
		s = s[colon+1:]
		end, units := 0, 0
		for units < n {
			if end >= len(s) {
				return nil, errors.New("eio: payload shorter than its length")
			}
			r, size := utf8.DecodeRuneInString(s[end:])
			end += size
			units += utf16.RuneLen(r)
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out, nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
