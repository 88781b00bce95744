package sio

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/googollee/go-socket.io/logger"
)

func TestLibraryLogsGoToOurLoggerAtDebug(t *testing.T) {
	saved := logger.Log
	t.Cleanup(func() { logger.Log = saved })
	var buf bytes.Buffer
	RouteLibraryLogs(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	logger.Error("DecodeHeader Error in serveRead", errors.New("EOF"))
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %q", buf.String())
	}
	if rec["level"] != "DEBUG" || rec["msg"] != "DecodeHeader Error in serveRead" || rec["err"] != "EOF" || rec["component"] != "socketio-lib" {
		t.Fatalf("record: %v", rec)
	}
	buf.Reset()
	RouteLibraryLogs(slog.New(slog.NewJSONHandler(&buf, nil))) // info level
	logger.Error("noise", errors.New("x"))
	if buf.Len() != 0 {
		t.Fatalf("library noise logged at info: %q", buf.String())
	}
}
