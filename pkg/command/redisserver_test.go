package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Ports this package's tests may start redis-server on. They differ from
// pkg/broker's, because go test runs the two packages in parallel.
var ownRedisPorts = []int{6395, 6396, 6397, 6398, 6399}

// testRedisURL returns the Redis the tests share, or skips the test if
// there is none (fails it if KEFU_TEST_REQUIRE_SERVERS=1).
func testRedisURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("KEFU_TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("KEFU_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("KEFU_TEST_REDIS_URL is not set but KEFU_TEST_REQUIRE_SERVERS=1")
		}
		t.Skip("KEFU_TEST_REDIS_URL not set")
	}
	return url
}

// newTestClient returns a client for url, closed when the test ends.
func newTestClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping %s: %v", url, err)
	}
	return c
}

// redisServer is a redis-server child process the test starts, kills and
// restarts on a fixed port.
type redisServer struct {
	t      *testing.T
	port   int
	dir    string
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	out    syncBuffer
}

// startRedisServer starts redis-server on the first free port of
// ownRedisPorts; it is killed when the test ends. It needs the same
// environment as the shared-server tests, plus redis-server on PATH.
func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	testRedisURL(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("KEFU_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatalf("redis-server not found: %v", err)
		}
		t.Skipf("redis-server not found: %v", err)
	}
	for _, port := range ownRedisPorts {
		s := &redisServer{t: t, port: port, dir: t.TempDir()}
		if !portFree(port) {
			continue
		}
		if err := s.start(); err != nil {
			t.Logf("redis-server on port %d: %v", port, err)
			continue
		}
		t.Cleanup(s.kill)
		return s
	}
	t.Fatalf("could not start redis-server on any of ports %v", ownRedisPorts)
	return nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// start runs redis-server and waits until it answers PING.
func (s *redisServer) start() error {
	s.cmd = exec.Command("redis-server",
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir)
	s.cmd.Stdout = &s.out
	s.cmd.Stderr = &s.out
	if err := s.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	s.exited = exited
	go func() {
		_ = s.cmd.Wait()
		close(exited)
	}()

	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited: %s", s.out.String())
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			s.kill()
			return errors.New("not answering PING after 10s")
		}
	}
}

// kill stops the server the way a crash would, and waits for it to exit.
func (s *redisServer) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// syncBuffer collects a child's output, written from os/exec's copying
// goroutine and read from the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLogger logs through the test, so that output shows up next to the
// test that caused it and only when it matters.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}
