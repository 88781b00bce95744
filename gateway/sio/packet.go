package sio

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Socket.IO 2 packet types (the digit after the Engine.IO message type "4").
const (
	sioConnect = '0'
	sioEvent   = '2'
)

// libNamespace maps a user-facing namespace name to the library's key: the
// library stores the root namespace as "" and every other one verbatim.
func libNamespace(name string) string {
	if name == "/" {
		return ""
	}
	return name
}

// encodeEvent builds the Socket.IO EVENT packet `2[/nsp,]["event",data]`
// without the Engine.IO type byte (the transport adds it). It is built once
// per Emit or EmitLocal and the same bytes are queued to every recipient, so a
// fan-out to N sockets marshals once instead of N times as the library would.
func encodeEvent(lib, event string, data json.RawMessage) ([]byte, error) {
	name, err := json.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("sio: encode event name: %w", err)
	}
	if len(data) == 0 {
		data = json.RawMessage("null")
	} else if !json.Valid(data) {
		// Invalid JSON would make the client's parser drop the packet (or
		// worse, mis-frame it), so refuse it here where the bug is.
		return nil, fmt.Errorf("sio: event %q: data is not valid JSON", event)
	}
	var b bytes.Buffer
	b.Grow(len(lib) + len(name) + len(data) + 5)
	b.WriteByte(sioEvent)
	if lib != "" {
		b.WriteString(lib)
		b.WriteByte(',')
	}
	b.WriteByte('[')
	b.Write(name)
	b.WriteByte(',')
	b.Write(data)
	b.WriteByte(']')
	return b.Bytes(), nil
}

// connectAckNamespace reports whether p (a Socket.IO packet without the
// Engine.IO type byte, possibly truncated) is a CONNECT packet and for which
// library namespace key. The library writes `0` for the root namespace and
// `0/nsp,[]` for the others.
func connectAckNamespace(p []byte) (string, bool) {
	if len(p) == 0 || p[0] != sioConnect {
		return "", false
	}
	p = p[1:]
	if len(p) == 0 || p[0] != '/' {
		return "", true
	}
	if i := bytes.IndexAny(p, ",?"); i >= 0 {
		p = p[:i]
	}
	return string(bytes.TrimRight(p, "\n")), true
}
