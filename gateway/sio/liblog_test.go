package sio

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
)

func TestLibraryLogsGoToOurLoggerAtDebug(t *testing.T) {
	// The library's package variable is read by other tests' lingering
	// goroutines, so this test logs the way the library does through the
	// logger RouteLibraryLogs would install, without installing it.
	var buf bytes.Buffer
	lib := libraryLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	lib.Error("DecodeHeader Error in serveRead", "err", errors.New("EOF").Error())
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %q", buf.String())
	}
	if rec["level"] != "DEBUG" || rec["msg"] != "DecodeHeader Error in serveRead" || rec["err"] != "EOF" || rec["component"] != "socketio-lib" {
		t.Fatalf("record: %v", rec)
	}
	buf.Reset()
	lib = libraryLogger(slog.New(slog.NewJSONHandler(&buf, nil))) // info level
	lib.Error("noise", "err", "x")
	if buf.Len() != 0 {
		t.Fatalf("library noise logged at info: %q", buf.String())
	}
}
