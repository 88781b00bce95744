package command

// Ports this package's tests may start their own redis-server on; they differ
// between packages because go test runs packages in parallel.
var ownRedisPorts = []int{6395, 6396, 6397, 6398, 6399}
