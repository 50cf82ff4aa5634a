package proxy

import (
	"errors"
	"net/url"
	"strings"
)

// Path normalization: what a request's path means is decided once, before routing, policy
// and forwarding, so that the gateway and the backend can never read one path two ways.
//
// A backend resolves "/public/../admin" to "/admin"; a gateway that routes on the raw text
// sees "/public" and applies the wrong API's policy, and with a stripped prefix and a backend
// base path the ".." climbs out of the base. So, as Envoy and Istio do:
//
//   - dot segments are removed (RFC 3986 §5.2.4) after decoding %2E, which is the same
//     character as "." (RFC 3986 §2.3, unreserved): "%2e%2e" is "..";
//   - an encoded slash or backslash (%2F, %5C) or a raw backslash in a segment is rejected
//     with 400 by default, or decoded into "/" and normalized with the rest
//     (config.DecodeEscapedSlashes), like Envoy's path_with_escaped_slashes_action;
//   - a segment that would become a dot segment or a separator only after a second decoding
//     (%252e, %252f, %255c) is rejected: a backend that decodes twice must not be handed one;
//   - a dot segment with path parameters ("..;x", ".;x") is rejected: servlet containers
//     read it as "..";
//   - repeated slashes are merged: "//host/x" must not reach a backend that reads it as a
//     network-path reference.
//
// The result is routed and authorized on, and exactly it is forwarded: the escaped form of the
// normalized path, with the other escapes the caller chose kept as they were.

// errBadPath is a path the gateway refuses (400).
var errBadPath = errors.New("invalid path")

// normalizePath returns the normalized escaped form of esc, an escaped absolute path (as
// url.URL.EscapedPath returns it). A path that is already normal is returned as is, without
// allocating: that is every request of a well-behaved client.
func normalizePath(esc string, decodeSlashes bool) (string, error) {
	if len(esc) == 0 || esc[0] != '/' {
		return "", errBadPath
	}
	if pathIsNormal(esc) {
		return esc, nil
	}
	return normalizeSlow(esc, decodeSlashes)
}

// pathIsNormal reports whether esc holds nothing normalization would change or refuse: no
// "//", no segment "." or ".." (or one starting with "." followed by ";"), no %2E/%2F/%5C or
// their double encodings, no backslash.
func pathIsNormal(esc string) bool {
	for i := 0; i < len(esc); i++ {
		switch esc[i] {
		case '/':
			if i+1 < len(esc) {
				switch esc[i+1] {
				case '/':
					return false
				case '.':
					if dotSegmentAt(esc, i+1) {
						return false
					}
				}
			}
		case '%':
			if i+2 < len(esc) && specialEscape(esc[i+1], esc[i+2]) {
				return false
			}
		case '\\':
			return false
		}
	}
	return true
}

// dotSegmentAt reports whether the segment starting at esc[i] (a '.') is "." or "..",
// possibly with path parameters (";…"), in which case normalization has work to do.
func dotSegmentAt(esc string, i int) bool {
	j := i + 1
	if j < len(esc) && esc[j] == '.' {
		j++
	}
	return j == len(esc) || esc[j] == '/' || esc[j] == ';' || esc[j] == '%'
}

// specialEscape reports whether %hl is one normalization looks at: %2E, %2F, %5C, or %25
// (the start of a possible double encoding).
func specialEscape(h, l byte) bool {
	switch h {
	case '2':
		return l == 'e' || l == 'E' || l == 'f' || l == 'F' || l == '5'
	case '5':
		return l == 'c' || l == 'C'
	}
	return false
}

// normalizeSlow decodes %2E, handles escaped slashes, and removes dot segments and empty
// segments.
func normalizeSlow(esc string, decodeSlashes bool) (string, error) {
	// Pass 1: %2E becomes '.'; %2F, %5C and '\' become '/' (or the path is refused); double
	// encodings of those are refused.
	var b strings.Builder
	b.Grow(len(esc))
	for i := 0; i < len(esc); i++ {
		c := esc[i]
		switch {
		case c == '\\':
			if !decodeSlashes {
				return "", errBadPath
			}
			b.WriteByte('/')
		case c == '%' && i+2 < len(esc):
			h, l := esc[i+1], esc[i+2]
			switch {
			case h == '2' && (l == 'e' || l == 'E'):
				b.WriteByte('.')
				i += 2
			case (h == '2' && (l == 'f' || l == 'F')) || (h == '5' && (l == 'c' || l == 'C')):
				if !decodeSlashes {
					return "", errBadPath
				}
				b.WriteByte('/')
				i += 2
			case h == '2' && l == '5' && i+4 < len(esc) && specialEscape(esc[i+3], esc[i+4]) && esc[i+3:i+5] != "25":
				return "", errBadPath // %252e, %252f, %255c: a dot or a slash after one more decoding
			default:
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	p := b.String()

	// Pass 2: RFC 3986 §5.2.4 over the segments, with empty segments dropped (merged
	// slashes). A trailing slash, or a final dot segment, leaves the path ending in '/'.
	segs := make([]string, 0, strings.Count(p, "/"))
	trailing := false
	for rest := p[1:]; ; {
		seg, next, more := strings.Cut(rest, "/")
		trailing = false
		switch {
		case seg == "" || seg == ".":
			trailing = true
		case seg == "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
			trailing = true
		case seg[0] == '.' && (strings.HasPrefix(seg, ".;") || strings.HasPrefix(seg, "..;")):
			return "", errBadPath // a dot segment with path parameters: ".." to a servlet container
		default:
			segs = append(segs, seg)
		}
		if !more {
			break
		}
		rest = next
	}
	b.Reset()
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(s)
	}
	if trailing || len(segs) == 0 {
		b.WriteByte('/')
	}
	return b.String(), nil
}

// normalizeRequestPath normalizes r's URL in place: after it, URL.Path is the decoded
// normalized path (routed and authorized on) and URL.EscapedPath() its escaped form (which is
// forwarded). It leaves a normal path untouched.
func normalizeRequestPath(u *url.URL, decodeSlashes bool) error {
	// Without a RawPath the caller used the default escaping, which never writes %2E, %2F or
	// %5C: the decoded path then shows every separator and dot as sent (and a '%' in it, a
	// decoded %25, sends the path the slow way), so it can be checked without escaping it.
	if u.RawPath == "" && u.Path != "" && u.Path[0] == '/' && pathIsNormal(u.Path) {
		return nil
	}
	esc := u.EscapedPath()
	n, err := normalizePath(esc, decodeSlashes)
	if err != nil {
		return err
	}
	if n == esc {
		return nil
	}
	p, err := url.PathUnescape(n)
	if err != nil {
		return errBadPath
	}
	u.Path, u.RawPath = p, n
	return nil
}

// stripEscaped cuts the API's prefix (decoded, normalized, matched by the router) from the
// escaped normalized path esc and returns the rest, starting with '/'. A normalized path has
// no escaped slash, so its escaped and decoded forms have the same slashes: the prefix is the
// same number of segments in both, whatever the caller escaped inside them.
func stripEscaped(esc, prefix string) string {
	n := strings.Count(prefix, "/") // segments of the prefix, its trailing slash included
	if !strings.HasSuffix(prefix, "/") {
		n++ // the rest starts at the slash after the prefix's last segment
	}
	i := 0
	for ; n > 0 && i < len(esc); i++ {
		if esc[i] == '/' {
			n--
			if n == 0 {
				return esc[i:]
			}
		}
	}
	return "/"
}
