// Package sio wraps github.com/googollee/go-socket.io v1.8.0-rc.1 (Engine.IO 3
// / Socket.IO 2, i.e. socket.io-client 2.x) so that its limits stay inside
// this package. The rest of Kefu sees a Server (an http.Handler for
// /socket.io/), Namespaces with OnConnect/OnDisconnect, typed event handlers
// registered with Handle, and Sockets with a non-blocking Emit and our own
// rooms. Server.EmitLocal is the fan-out entry point for the cluster broker.
//
// # What the wrapper changes
//
//   - Session ids are "<node>.<22 random base64url chars>" instead of the
//     library's counter, so they are unguessable and a load balancer can
//     route polling requests by the sid prefix.
//   - The websocket transport is ours (gorilla/websocket with a read limit
//     of MaxPacketBytes plus 1 KiB of header slack, and a close handshake);
//     the polling transport is the library's behind a thin wrapper. Both let
//     us observe what the library writes.
//   - Emit never blocks: packets go to a per-socket queue drained by a
//     goroutine that exists only while the queue is non-empty, written
//     straight to the Engine.IO session rather than through the library's
//     unbuffered per-connection channel. More than Config.SendQueue pending
//     packets disconnect the socket (ReasonSlowClient).
//   - Rooms are ours: the library's rooms deliver a namespace broadcast once
//     per room a socket is in and its Redis adapter is not used.
//   - Refusal: the library has no connect-error packet. A refused socket is
//     sent `refused` {code, message} and disconnected only after that packet
//     was handed to the transport (a GET response, or the TCP stream followed
//     by a websocket close handshake), or after 5 s if the client stopped
//     polling. Nothing the socket was sent before is delivered.
//   - No packet of ours for a namespace is written before the library's
//     CONNECT acknowledgement for it: socket.io-client 2 drops events of a
//     namespace it has not seen connect, and replayed history must follow
//     the acknowledgement.
//   - The library requires a root namespace handler; New registers a no-op
//     one. Namespace("/") exposes it if a caller really wants it.
//
// # Handlers and the read loop
//
// The library calls OnConnect and event handlers on the connection's read
// loop and sends an acknowledgement only from there, with the handler's
// return value. Handlers therefore run synchronously, one at a time per
// connection, in arrival order (which keeps a client's messages in order).
// A handler that blocks delays everything else from that client, including
// its pings. Emit, Join, Leave and Close are safe to call from handlers.
// OnDisconnect runs after the last handler of the socket returned.
//
// OnConnect runs before the library acknowledges the namespace CONNECT, so a
// well-behaved client cannot send events that would have to be ignored. A
// client that sends events before that acknowledgement has them read after
// OnConnect returned: they are handled if the socket was accepted and
// ignored if it was refused. No handler ever runs for a socket whose
// OnConnect has not succeeded.
//
// # Library behaviour we cannot change (pinned by TestLibraryBehaviour)
//
// Answered as specified:
//   - Event without an argument (`42/nsp,1["ev"]`) or with null: the library
//     calls the handler with an empty argument; Handle answers bad_request
//     "missing argument".
//   - Extra arguments: the library decodes as many arguments as the handler
//     declares (one) and drops the rest; Handle ignores them.
//   - Argument too large: polling bodies may carry up to MaxPollBody, so an
//     argument over MaxPacketBytes reaches Handle and is answered too_large;
//     over websocket the same holds while the frame fits the read limit.
//
// Not answerable:
//   - Unknown event (no Handle for it): the library has no catch-all
//     handler. If the client asked for an acknowledgement the library sends
//     an empty one (`43/nsp,1[]`); otherwise nothing. We cannot send
//     bad_request.
//   - Event without an ack id: the library cannot tell handlers whether an
//     acknowledgement was requested and sends the handler's return value
//     anyway, as an acknowledgement without id (`43/nsp,[...]`), which
//     socket.io-client 2 discards.
//   - Event of a refused socket: Handle does not run the handler, but the
//     library still acknowledges it, with null.
//   - Event for a namespace the client has not connected: dropped, no
//     acknowledgement.
//   - Binary events: the handler sees the attachment placeholder object, not
//     the bytes; Kefu's protocol is JSON only.
//
// Close the whole connection (the client gets no answer; OnDisconnect
// reports ReasonTransportClose):
//   - Malformed JSON in an event's arguments (even for unknown events: the
//     library parses the whole array first).
//   - An event packet without a name, or whose name is not a string.
//   - An unknown Socket.IO packet type, or a binary event whose attachment
//     frame does not follow.
//   - CONNECT to a namespace that was not created with Server.Namespace.
//   - A websocket frame over MaxPacketBytes + 1 KiB (gorilla sends close
//     1009 first) or a polling POST body over MaxPollBody (the POST gets 400).
//
// Other library properties the wrapper accounts for:
//   - The library answers the handshake before registering the session, so
//     a fast client's next request could get "invalid sid"; ServeHTTP holds
//     requests carrying a sid until the library serves that session.
//   - Closing a polling session while a packet is being written into a
//     GET response hangs that GET until the ping timeout; and the library's
//     read loop can fail with EOF right after a successful upgrade to
//     websocket, killing the upgraded session. The polling wrapper postpones
//     such closes and turns those errors into retries.
//   - Once a session is on websocket, the library treats any further request
//     for it as another upgrade and parks it until the session ends;
//     ServeHTTP answers such requests 400 instead.
//   - Polling responses carry one packet each (the library never batches),
//     so a polling client needs one round trip per server packet.
//   - Closing the library while a new session is being delivered panics
//     inside it; Run waits for such sessions first.
//   - Socket.Close closes the client's whole connection: the library has no
//     server-side namespace disconnect. Clients use one connection per
//     namespace.
//   - The library logs (e.g. "DecodeHeader Error in serveRead" on every
//     disconnect) through its own package-level logger, which writes to the
//     standard log package; we leave that global alone.
package sio
