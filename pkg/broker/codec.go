package broker

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// The Redis payload of a Message. Data, the bulk of it and already JSON, is
// carried as is after a short binary header, so that neither side scans or
// copies it as a JSON encoding of the whole Message would (twice on publish:
// validate and compact; once on receive):
//
//	0x01, then Namespace, Room, Except and Event each as a uvarint length and
//	its bytes, then Data to the end.
//
// A payload starting with '{' is the JSON form that earlier versions
// published; it is still accepted, so that during a rolling upgrade the
// messages of nodes not yet upgraded get through.
const codecVersion = 0x01

var errMalformed = errors.New("malformed message")

func encodeMessage(msg Message) ([]byte, error) {
	if msg.Data != nil && !json.Valid(msg.Data) {
		return nil, errInvalidData
	}
	fields := [...]string{msg.Namespace, msg.Room, msg.Except, msg.Event}
	size := 1 + len(msg.Data)
	for _, f := range fields {
		size += binary.MaxVarintLen64 + len(f)
	}
	b := make([]byte, 1, size)
	b[0] = codecVersion
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return append(b, msg.Data...), nil
}

// decodeMessage parses a payload. Its strings share the payload's memory.
func decodeMessage(payload string) (Message, error) {
	var msg Message
	if len(payload) > 0 && payload[0] == '{' {
		if err := json.Unmarshal([]byte(payload), &msg); err != nil {
			return Message{}, err
		}
		return msg, nil
	}
	if len(payload) == 0 || payload[0] != codecVersion {
		return Message{}, fmt.Errorf("%w: unknown format", errMalformed)
	}
	rest := payload[1:]
	for _, f := range [...]*string{&msg.Namespace, &msg.Room, &msg.Except, &msg.Event} {
		n, size := uvarintString(rest)
		if size <= 0 || n > uint64(len(rest)-size) {
			return Message{}, fmt.Errorf("%w: truncated header", errMalformed)
		}
		*f = rest[size : size+int(n)]
		rest = rest[size+int(n):]
	}
	if rest != "" {
		msg.Data = json.RawMessage(rest)
	}
	return msg, nil
}

// uvarintString is binary.Uvarint on a string, without copying it.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1) // overflow
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}
