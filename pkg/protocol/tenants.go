package protocol

// TenantRoom holds every socket of one tenant in every namespace: its
// agents' /im/agent and /im/entim sockets and its visitors' /im/user ones,
// so that disabling the tenant reaches them all with one emit per namespace.
func TenantRoom(orgi string) string { return "o:" + orgi }

// ErrTenantDisabled refuses a login, a socket or a widget request of a
// tenant that a platform admin has disabled.
var ErrTenantDisabled = Errorf(CodeForbidden, "tenant disabled")

// LeaveTenantDisabled is the `leave` reason (and the visitors' `refused`
// message) when the tenant is disabled.
const LeaveTenantDisabled = "tenant disabled"
