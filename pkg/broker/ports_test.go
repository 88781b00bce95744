package broker

// Ports this package's tests may start their own redis-server on; they differ
// between packages because go test runs packages in parallel.
var ownRedisPorts = []int{6392, 6393, 6394}
