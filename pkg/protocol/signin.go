package protocol

// CodeLocked refuses a sign-in while its account or client address is
// locked out after too many failed attempts (HTTP 429 with Retry-After).
// It differs from CodeRateLimited, which paces visitors' identities.
const CodeLocked = "locked"
