// Package relay is the gateway's benchmark mode (KEFU_RELAY_BENCH=true),
// never meant for production:
//
//   - the /relay namespace, a bare relay with no store involved, so that the
//     gateway's socket and broker path can be compared like for like with a
//     socket.io 4 relay doing the same (gateway/loadgen/peer);
//   - Profiling, net/http/pprof's handlers for /debug/pprof/ (without
//     cmdline, which would show the process's flags).
//
// /relay events (acknowledgements as everywhere in Kefu):
//
//	join  {room}        → the socket joins room; ack {ok: true}
//	relay {room, data}  → `relay` {room, data}, the argument as received,
//	                      to every socket in room on every node except the
//	                      sender; ack {ok: true} once it was published
//
// Rooms are 1 to 128 bytes. A socket need not be in a room to relay to it.
package relay

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/pprof"

	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// Namespace and events.
const (
	Namespace  = "/relay"
	EventJoin  = "join"
	EventRelay = "relay"
)

// MaxRoomLen bounds room names.
const MaxRoomLen = 128

// Emitter publishes to a room of a namespace on every node (pkg/emit).
type Emitter interface {
	ToRoom(ctx context.Context, namespace, room, event string, v any, except string) error
}

// Register creates the /relay namespace on srv. Deliveries from the broker
// reach its sockets through srv.EmitLocal, as for every namespace. Call it
// before srv serves requests.
func Register(srv *sio.Server, emit Emitter) {
	ns := srv.Namespace(Namespace)
	ok := protocol.OKAck{OK: true}
	sio.Handle(ns, EventJoin, func(_ context.Context, s *sio.Socket, p joinArg) (any, error) {
		s.Join(p.Room)
		return ok, nil
	})
	sio.Handle(ns, EventRelay, func(ctx context.Context, s *sio.Socket, p relayArg) (any, error) {
		// p.raw is the argument exactly as received: republished without
		// re-encoding, like socket.io's `socket.to(room).emit(..., p)`.
		if err := emit.ToRoom(ctx, Namespace, p.room, EventRelay, p.raw, s.ID()); err != nil {
			return nil, errors.Join(err, protocol.Errorf(protocol.CodeUnavailable, "relay failed, retry"))
		}
		return ok, nil
	})
}

type joinArg struct {
	Room string `json:"room"`
}

func (j joinArg) Validate() error { return validRoom(j.Room) }

// relayArg keeps the whole argument besides the room it names.
type relayArg struct {
	room string
	raw  json.RawMessage
}

func (r *relayArg) UnmarshalJSON(b []byte) error {
	var p struct {
		Room string `json:"room"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	r.room = p.Room
	r.raw = append(json.RawMessage(nil), b...) // b belongs to the decoder
	return nil
}

func (r relayArg) Validate() error { return validRoom(r.room) }

func validRoom(room string) error {
	if room == "" || len(room) > MaxRoomLen {
		return protocol.Errorf(protocol.CodeBadRequest, "room must be 1 to %d bytes", MaxRoomLen)
	}
	return nil
}

// Profiling serves net/http/pprof under /debug/pprof/: the index, every
// named profile (heap, goroutine, allocs, mutex, block, threadcreate), CPU
// profiles, traces and symbols. Not cmdline: flags may carry secrets.
func Profiling() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/cmdline", http.NotFound)
	return mux
}
