// Package eventlog writes the transaction event log: one JSON line per transaction in the
// shared events directory, which the Admin Node Manager streams into the metrics database.
package eventlog

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Event is one transaction. It never holds a credential: KeyID is the public identifier of an
// API key, not the key.
type Event struct {
	Time     time.Time
	API      string
	Method   string
	Path     string
	Status   int
	Latency  time.Duration
	BytesIn  int64
	BytesOut int64
	KeyID    string
	AppID    string
}

// Line is the JSON form of an Event as written to disk and read back by the ANM.
type Line struct {
	Time      time.Time `json:"time"`
	Group     string    `json:"group"`
	Instance  string    `json:"instance"`
	API       string    `json:"api"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Status    int       `json:"status"`
	LatencyMs float64   `json:"latencyMs"`
	BytesIn   int64     `json:"bytesIn"`
	BytesOut  int64     `json:"bytesOut"`
	KeyID     string    `json:"keyId,omitempty"`
	AppID     string    `json:"appId,omitempty"`
}

// appendJSON appends e as one JSON line. Hand-written: encoding/json would reflect and
// allocate per event.
func appendJSON(b []byte, e *Event, group, instance string) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, `","group":`...)
	b = appendString(b, group)
	b = append(b, `,"instance":`...)
	b = appendString(b, instance)
	b = append(b, `,"api":`...)
	b = appendString(b, e.API)
	b = append(b, `,"method":`...)
	b = appendString(b, e.Method)
	b = append(b, `,"path":`...)
	b = appendString(b, e.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"latencyMs":`...)
	b = strconv.AppendFloat(b, float64(e.Latency.Microseconds())/1000, 'f', 3, 64)
	b = append(b, `,"bytesIn":`...)
	b = strconv.AppendInt(b, e.BytesIn, 10)
	b = append(b, `,"bytesOut":`...)
	b = strconv.AppendInt(b, e.BytesOut, 10)
	if e.KeyID != "" {
		b = append(b, `,"keyId":`...)
		b = appendString(b, e.KeyID)
	}
	if e.AppID != "" {
		b = append(b, `,"appId":`...)
		b = appendString(b, e.AppID)
	}
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }

// appendString is AppendJSONString.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
