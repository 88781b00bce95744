package sio

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
)

// Polling POST bodies are checked and, during an upgrade, delivered by us
// rather than by the library, because of two defects of its payload:
//   - a body the Socket.IO layer cannot parse makes the library close the
//     session while its POST handler waits, unanswered, for the read loop
//     that just ended: the request hangs until the ping timeout. We refuse
//     such bodies up front with 400 (and close the session, which is what
//     the library would have done).
//   - while the session is paused for an upgrade to websocket, the library
//     refuses POSTs ("payload: paused"). A client that started a POST just
//     before it saw the upgrade probe loses those packets, typically its
//     namespace CONNECT, and then waits forever. We accept them and hand
//     them to the session's read loop ourselves (see wire.inject).

// errMalformed marks a body that is not a well-formed Engine.IO 3 text
// payload of Socket.IO 2 packets we can serve.
var errMalformed = errors.New("malformed payload")

// splitTextPayload splits an Engine.IO 3 text payload, `<len>:<packet>`
// repeated, where len counts UTF-16 code units as JavaScript does.
func splitTextPayload(body string) ([]string, error) {
	var out []string
	for len(body) > 0 {
		colon := strings.IndexByte(body, ':')
		if colon <= 0 || colon > 10 {
			return nil, fmt.Errorf("%w: no length prefix", errMalformed)
		}
		n, err := strconv.Atoi(body[:colon])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%w: bad length %q", errMalformed, body[:colon])
		}
		rest := body[colon+1:]
		end, units := 0, 0
		for units < n {
			if end >= len(rest) {
				return nil, fmt.Errorf("%w: packet shorter than its length", errMalformed)
			}
			r, size := utf8.DecodeRuneInString(rest[end:])
			if r == utf8.RuneError && size == 1 {
				return nil, fmt.Errorf("%w: invalid UTF-8", errMalformed)
			}
			end += size
			units++
			if r > 0xFFFF {
				units++ // a surrogate pair in JavaScript
			}
		}
		if units != n {
			return nil, fmt.Errorf("%w: length splits a character", errMalformed)
		}
		out = append(out, rest[:end])
		body = rest[end:]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty", errMalformed)
	}
	return out, nil
}

// checkPacket accepts the Engine.IO packets a Socket.IO 2 client sends, and
// for messages only Socket.IO packets the library parses without closing
// the connection: CONNECT, DISCONNECT, and EVENT/ACK whose arguments are a
// JSON array (an EVENT's starting with its name).
func checkPacket(p string) error {
	switch p[0] {
	case '1', '2', '3', '5', '6': // close, ping, pong, upgrade, noop
		return nil
	case '4':
	default:
		return fmt.Errorf("%w: Engine.IO packet type %q", errMalformed, p[0])
	}
	sio := p[1:]
	if sio == "" {
		return fmt.Errorf("%w: empty message", errMalformed)
	}
	kind, rest := sio[0], sio[1:]
	switch kind {
	case '0', '1':
		return nil
	case '2', '3':
	default:
		return fmt.Errorf("%w: Socket.IO packet type %q", errMalformed, kind)
	}
	if strings.HasPrefix(rest, "/") {
		comma := strings.IndexByte(rest, ',')
		if comma < 0 {
			return fmt.Errorf("%w: namespace without arguments", errMalformed)
		}
		rest = rest[comma+1:]
	}
	rest = strings.TrimLeft(rest, "0123456789") // ack id
	var args []json.RawMessage
	if err := json.Unmarshal([]byte(rest), &args); err != nil {
		return fmt.Errorf("%w: arguments are not a JSON array", errMalformed)
	}
	if kind == '2' {
		var name string
		if len(args) == 0 || json.Unmarshal(args[0], &name) != nil || name == "" {
			return fmt.Errorf("%w: event without a name", errMalformed)
		}
	}
	return nil
}

// inbound is one Engine.IO packet received over a polling POST that we
// deliver to the session's read loop ourselves.
type inbound struct {
	pt   packet.Type
	data string
}

func newInbound(p string) inbound {
	return inbound{pt: packet.ByteToPacketType(p[0], frame.String), data: p[1:]}
}

func (in inbound) reader() (frame.Type, packet.Type, io.ReadCloser, error) {
	return frame.String, in.pt, io.NopCloser(strings.NewReader(in.data)), nil
}
