// Package redistest gives tests a real Redis: the shared server named by
// KEFU_TEST_REDIS_URL, or a redis-server child process of their own that they
// may kill and restart. Only tests import it.
package redistest

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

// URL returns the Redis the tests share, or skips the test if
// there is none (fails it if KEFU_TEST_REQUIRE_SERVERS=1).
func URL(t testing.TB) string {
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

// Client returns a client for url, closed when the test ends.
func Client(t testing.TB, url string) *redis.Client {
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

// Server is a redis-server child process the test starts, kills and
// restarts on a fixed port.
type Server struct {
	t      *testing.T
	port   int
	dir    string
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	out    syncBuffer
}

// Start starts redis-server on the first free port of
// ports; it is killed when the test ends. It needs the same
// environment as the shared-server tests, plus redis-server on PATH.
func Start(t *testing.T, ports []int) *Server {
	t.Helper()
	URL(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("KEFU_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatalf("redis-server not found: %v", err)
		}
		t.Skipf("redis-server not found: %v", err)
	}
	for _, port := range ports {
		s := &Server{t: t, port: port, dir: t.TempDir()}
		if !portFree(port) {
			continue
		}
		if err := s.Boot(); err != nil {
			t.Logf("redis-server on port %d: %v", port, err)
			continue
		}
		t.Cleanup(s.Kill)
		return s
	}
	t.Fatalf("could not start redis-server on any of ports %v", ports)
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

func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Boot runs redis-server (again, after Kill) and waits until it answers PING.
func (s *Server) Boot() error {
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

	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
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
			s.Kill()
			return errors.New("not answering PING after 10s")
		}
	}
}

// kill stops the server the way a crash would, and waits for it to exit.
func (s *Server) Kill() {
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

// Signal sends sig to the server process (SIGSTOP makes it hang like a dead
// host whose connections stay open; SIGCONT resumes it).
func (s *Server) Signal(sig os.Signal) error {
	if s.cmd == nil || s.cmd.Process == nil {
		return errors.New("redis-server is not running")
	}
	return s.cmd.Process.Signal(sig)
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

// Logger logs through the test, so that output shows up next to the
// test that caused it and only when it matters.
func Logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}
