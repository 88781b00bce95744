package sio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"

	socketio "github.com/googollee/go-socket.io"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// Handle registers h for event on namespace n. The event's first argument is
// decoded from JSON into T and h's outcome becomes the acknowledgement:
//
//   - an argument larger than Config.MaxPacketBytes → too_large, not decoded;
//   - a missing or null argument, or one that does not decode into T →
//     bad_request naming the field and the problem;
//   - if T or *T has `Validate() error`, it is called; its error is sent as
//     is when it is a *protocol.Error, otherwise as bad_request;
//   - h's error → protocol.NewErrorAck(err) (anything that is not a
//     *protocol.Error is logged and answered as internal);
//   - h's result → the acknowledgement, marshalled as JSON;
//   - a panic in h is recovered, logged and answered as internal; the
//     connection stays up.
//
// Further arguments are ignored. Events of sockets that are not connected
// (refused, or already disconnected, e.g. by a draining node) do not reach h:
// they are answered unavailable, so a client knows to send again once it has
// reconnected. Handlers of one socket run
// one at a time in arrival order, on that connection's read loop: while h
// runs, nothing else from that client is read (including its pings), so h
// should not block for long; ctx is the socket's context. See the package
// documentation for what the library does before Handle sees an event.
func Handle[T any](n *Namespace, event string, h func(ctx context.Context, s *Socket, p T) (any, error)) {
	// We take the argument as json.RawMessage: decoding into T inside the
	// library would close the client's connection on any type mismatch.
	n.srv.io.OnEvent(n.name, event, func(c socketio.Conn, raw json.RawMessage) json.RawMessage {
		s := n.lookupConn(c)
		if s == nil || !s.isOpen() {
			return notConnectedAck
		}
		s.runMu.Lock()
		defer s.runMu.Unlock()
		if !s.isOpen() {
			return notConnectedAck
		}
		ack := runHandler(s, event, raw, h)
		n.srv.cfg.Observer.Handled(n.name, event, ackCode(ack))
		return ack
	})
}

// notConnectedAck answers an event of a socket that is not (or no longer)
// connected.
var notConnectedAck = json.RawMessage(`{"ok":false,"error":{"code":"` + protocol.CodeUnavailable + `","message":"not connected: reconnect, then send again"}}`)

// ackCode is "" for a successful acknowledgement, else its error code.
func ackCode(ack json.RawMessage) string {
	if !bytes.HasPrefix(ack, []byte(`{"ok":false`)) {
		return ""
	}
	var e protocol.ErrorAck
	if json.Unmarshal(ack, &e) != nil || e.Error == nil {
		return protocol.CodeInternal
	}
	return e.Error.Code
}

// runHandler decodes, validates and calls h, and returns the
// acknowledgement the library sends back.
func runHandler[T any](s *Socket, event string, raw json.RawMessage, h func(context.Context, *Socket, T) (any, error)) (ack json.RawMessage) {
	defer func() {
		if r := recover(); r != nil {
			s.srv.log.Error("sio: handler panicked", "socket", s.id, "event", event, "panic", r, "stack", string(debug.Stack()))
			ack = s.errorAck(event, protocol.Errorf(protocol.CodeInternal, "internal error"))
		}
	}()

	if limit := s.srv.cfg.MaxPacketBytes; len(raw) > limit {
		return s.errorAck(event, protocol.Errorf(protocol.CodeTooLarge, "argument exceeds %d bytes", limit))
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return s.errorAck(event, protocol.Errorf(protocol.CodeBadRequest, "missing argument"))
	}
	var p T
	if err := json.Unmarshal(trimmed, &p); err != nil {
		return s.errorAck(event, protocol.Errorf(protocol.CodeBadRequest, "%s", describeDecodeError(err)))
	}
	if err := validate(&p); err != nil {
		var pe *protocol.Error
		if !errors.As(err, &pe) {
			pe = protocol.Errorf(protocol.CodeBadRequest, "%s", err.Error())
		}
		return s.errorAck(event, pe)
	}

	res, err := h(s.ctx, s, p)
	if err != nil {
		return s.errorAck(event, err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return s.errorAck(event, fmt.Errorf("sio: marshal %q result: %w", event, err))
	}
	return b
}

type validator interface{ Validate() error }

// validate calls Validate on T's value or pointer receiver, if it has one.
func validate[T any](p *T) error {
	if v, ok := any(*p).(validator); ok {
		return v.Validate()
	}
	if v, ok := any(p).(validator); ok {
		return v.Validate()
	}
	return nil
}

// errorAck builds an error acknowledgement; errors that are not
// *protocol.Error are logged because the client only sees "internal".
func (s *Socket) errorAck(event string, err error) json.RawMessage {
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		s.srv.log.Error("sio: handler failed", "socket", s.id, "event", event, "err", err)
	}
	b, mErr := json.Marshal(protocol.NewErrorAck(err))
	if mErr != nil {
		// Cannot happen: ErrorAck is two strings and a bool.
		return json.RawMessage(`{"ok":false,"error":{"code":"internal","message":"internal error"}}`)
	}
	return b
}

// describeDecodeError turns a JSON decoding error into a message for the
// client: which field and why, in JSON terms rather than Go type names.
func describeDecodeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "argument"
		}
		return fmt.Sprintf("%s: expected %s, got %s", field, jsonKind(te.Type), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "argument is not valid JSON"
	}
	return "invalid argument: " + err.Error()
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	default:
		return t.String()
	}
}
