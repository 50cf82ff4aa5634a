package backup

import (
	"database/sql"
	"strings"
)

type literalKind int

const (
	litQuoted literalKind = iota
	litNumber
	litBinary
)

// kindOf tells how a column's values are written, from information_schema's DATA_TYPE:
// numbers as the server wrote them (DECIMAL keeps its digits and scale), binary strings,
// BIT and spatial values as hex (NUL bytes and all; a spatial value is its SRID and WKB, as
// the server stores it), everything else quoted.
func kindOf(dataType string) literalKind {
	switch strings.ToUpper(dataType) {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT", "DECIMAL", "NUMERIC", "FLOAT", "DOUBLE", "REAL", "YEAR",
		"UNSIGNED TINYINT", "UNSIGNED SMALLINT", "UNSIGNED MEDIUMINT", "UNSIGNED INT", "UNSIGNED BIGINT":
		return litNumber
	case "BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB", "BIT",
		"GEOMETRY", "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION":
		return litBinary
	}
	return litQuoted
}

const hexDigits = "0123456789ABCDEF"

// appendLiteral writes one value (nil: NULL) as a literal of its kind.
func appendLiteral(b []byte, k literalKind, v sql.RawBytes) []byte {
	switch {
	case v == nil:
		return append(b, "NULL"...)
	case k == litNumber:
		return append(b, v...)
	case k == litBinary && len(v) == 0:
		return append(b, "''"...)
	case k == litBinary:
		b = append(b, "0x"...)
		for _, c := range v {
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		return b
	}
	return appendQuoted(b, v)
}

// quoteIdent quotes a MySQL identifier with backticks (doubling any in it).
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// appendQuoted quotes a string the way mysql_real_escape_string does; the replay pins
// sql_mode without NO_BACKSLASH_ESCAPES, so it reads back the same bytes. A newline is
// escaped, so a statement's rows are one line each.
func appendQuoted[T string | []byte | sql.RawBytes](b []byte, s T) []byte {
	b = append(b, '\'')
	// Runs of bytes that need no escape are copied at once (most values have none).
	start := 0
	for i := 0; i < len(s); i++ {
		e := escapes[s[i]]
		if e == 0 {
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, '\\', e)
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '\'')
}

// escapes maps a byte to the letter after its backslash (0: written as it is).
var escapes = func() (t [256]byte) {
	t[0], t['\n'], t['\r'], t['\\'], t['\''], t['"'], t[0x1a] = '0', 'n', 'r', '\\', '\'', '"', 'Z'
	return t
}()

// renameDatabase rewrites `from`.`x` qualified names in a view's or trigger's text to
// `to`.`x`, on tokens: strings and comments are never touched.
func renameDatabase(stmt, from, to string) string {
	if from == to {
		return stmt
	}
	var out strings.Builder
	i := 0
	for i < len(stmt) {
		c := stmt[i]
		switch c {
		case '\'', '"':
			j := i + 1
			for j < len(stmt) && stmt[j] != c {
				if stmt[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(stmt))
			out.WriteString(stmt[i:j])
			i = j
		case '`':
			j := i + 1
			for j < len(stmt) {
				if stmt[j] == '`' {
					if j+1 < len(stmt) && stmt[j+1] == '`' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(stmt))
			name := strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(stmt[i:j], "`"), "`"), "``", "`")
			if name == from && j < len(stmt) && stmt[j] == '.' {
				out.WriteString(quoteIdent(to))
			} else {
				out.WriteString(stmt[i:j])
			}
			i = j
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String()
}

// stripDefiner removes a DEFINER=… clause: the restoring user becomes the definer (setting
// another user's would need SUPER on the target).
func stripDefiner(stmt string) string {
	i := strings.Index(stmt, "DEFINER=")
	if i < 0 {
		return stmt
	}
	j := i + len("DEFINER=")
	// user@host, each part quoted with backticks or quotes, or plain
	for part := 0; part < 2 && j < len(stmt); part++ {
		if q := stmt[j]; q == '`' || q == '\'' || q == '"' {
			k := strings.IndexByte(stmt[j+1:], q)
			if k < 0 {
				return stmt
			}
			j += k + 2
		} else {
			for j < len(stmt) && stmt[j] != '@' && stmt[j] != ' ' {
				j++
			}
		}
		if part == 0 && j < len(stmt) && stmt[j] == '@' {
			j++
		} else {
			break
		}
	}
	return strings.TrimRight(stmt[:i], " ") + " " + strings.TrimLeft(stmt[j:], " ")
}
