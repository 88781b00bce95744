package protocol

// Room names. Session traffic goes to the visitor's room and the current
// agent's room, so a transfer needs no cross-node join and any node or the
// routing service can reach a party without knowing where its sockets are.

// VisitorRoom holds every socket of one visitor on one site.
func VisitorRoom(appID, userID string) string { return "v:" + appID + ":" + userID }

// AgentRoom holds every socket (tab, device) of one agent.
func AgentRoom(agentID string) string { return "a:" + agentID }

// TenantAgentsRoom holds every agent socket of one tenant.
func TenantAgentsRoom(orgi string) string { return "t:" + orgi + ":agents" }

// SessionRoom holds observers of one session (supervisors, later issues).
func SessionRoom(sessionID string) string { return "s:" + sessionID }

// LoginRoom holds the sockets opened with one agent login (token), so that a
// logout ends those and not the agent's other devices.
func LoginRoom(tokenHash string) string { return "l:" + tokenHash }

// NamespaceControl carries messages between back-end processes and the
// gateways over the broker; no client socket is ever in it.
const NamespaceControl = "#control"

// EventAnnounce asks every gateway to send its heartbeat (its agent sockets)
// now: a routing replica that has just taken over wants presence at once.
const EventAnnounce = "announce"

// EventReply carries the routing service's answer to one command, in
// NamespaceControl, to room ReplyRoom(id): the gateway that sent the command
// waits for it.
const EventReply = "reply"

// ReplyRoom is where the answer to the command with reply id id goes.
func ReplyRoom(id string) string { return "r:" + id }
