package sio

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

func TestIdleWebsocketsKeepNoRequestGoroutine(t *testing.T) {
	ts, _ := userServer(t, Config{})
	const n = 10
	for i := range n {
		c := wsUser(t, ts, nil)
		checkEcho(t, c, 1, fmt.Sprint("client ", i))
	}
	buf := make([]byte, 1<<22)
	stacks := string(buf[:runtime.Stack(buf, true)])
	// Each connection's upgrade request must have ended: a parked request
	// goroutine keeps its stack and the HTTP server's buffers per connection.
	if got := strings.Count(stacks, "net/http.(*conn).serve("); got >= n {
		t.Fatalf("%d HTTP request goroutines for %d idle websockets:\n%s", got, n, stacks)
	}
}

func TestWebsocketFramesLargerThanTheReadBuffer(t *testing.T) {
	ts, _ := userServer(t, Config{})
	c := wsUser(t, ts, nil)
	checkEcho(t, c, 1, strings.Repeat("é", 3*wsReadBuffer))
	checkEcho(t, c, 2, "short after long")
}

func TestWSReaderUnreadsTheLastByte(t *testing.T) {
	r := &wsReader{r: strings.NewReader("2/ns,17[1]")}
	if err := r.UnreadByte(); err == nil {
		t.Fatal("UnreadByte before any read succeeded")
	}
	b, err := r.ReadByte()
	if err != nil || b != '2' {
		t.Fatalf("ReadByte = %q, %v", b, err)
	}
	if err := r.UnreadByte(); err != nil {
		t.Fatal(err)
	}
	if err := r.UnreadByte(); err == nil {
		t.Fatal("two UnreadBytes in a row succeeded")
	}
	p := make([]byte, 4)
	if n, _ := r.Read(p); string(p[:n]) != "2" {
		t.Fatalf("Read after UnreadByte = %q, want the unread byte", p[:n])
	}
	if n, _ := io.ReadFull(r, p); string(p[:n]) != "/ns," {
		t.Fatalf("Read = %q", p[:n])
	}
	if err := r.UnreadByte(); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err != nil || string(rest) != ",17[1]" {
		t.Fatalf("rest = %q, %v", rest, err)
	}
}
