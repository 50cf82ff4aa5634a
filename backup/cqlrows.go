package backup

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gocql/gocql"
)

// Cassandra rows are stored as the native protocol's own serialized values, copied byte for
// byte from the result set and bound back byte for byte: no value is ever converted, so
// every CQL type — decimal with its scale, varint, duration, UDT, tuple, collections,
// vector — comes back exactly.
//
// A rows file (before zstd) is:
//
//	"APIMCQL1\n" uvarint(len(header)) header-JSON
//	per row: 0x01, then per column uvarint(0) for null or uvarint(len+1) and the bytes
//	end: 0x00 uvarint(rows)
//
// The end marker and count make a truncated file an error, not a shorter table.
const rowsMagic = "APIMCQL1\n"

// rowsHeader describes a rows file.
type rowsHeader struct {
	Keyspace string         `json:"keyspace"`
	Table    string         `json:"table"`
	Columns  []columnSchema `json:"columns"`
	Ranges   []string       `json:"ranges,omitempty"`
	// TTLs are the columns whose time to live follows each row's values (4 bytes, seconds
	// left at Exported; null: none), so a restore keeps expiring data expiring.
	TTLs     []int     `json:"ttls,omitempty"`
	Exported time.Time `json:"exported,omitzero"`
}

// width is how many values a row of the file has.
func (h *rowsHeader) width() int { return len(h.Columns) + len(h.TTLs) }

// columnSchema is a column as system_schema.columns has it.
type columnSchema struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Kind     string `json:"kind"` // partition_key, clustering, static, regular
	Position int    `json:"position"`
}

func (c columnSchema) key() bool { return c.Kind == "partition_key" || c.Kind == "clustering" }

type rowsWriter struct {
	w    *bufio.Writer
	rows int64
	tmp  []byte
}

func newRowsWriter(w io.Writer, h rowsHeader) (*rowsWriter, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	rw := &rowsWriter{w: bufio.NewWriterSize(w, 64<<10)}
	rw.w.WriteString(rowsMagic)
	rw.uvarint(uint64(len(hb)))
	rw.w.Write(hb)
	return rw, nil
}

func (rw *rowsWriter) uvarint(v uint64) {
	rw.tmp = binary.AppendUvarint(rw.tmp[:0], v)
	rw.w.Write(rw.tmp)
}

// row writes one row; a nil value is null, an empty non-nil one is CQL's empty value.
func (rw *rowsWriter) row(vals [][]byte) {
	rw.w.WriteByte(1)
	for _, v := range vals {
		if v == nil {
			rw.uvarint(0)
			continue
		}
		rw.uvarint(uint64(len(v)) + 1)
		rw.w.Write(v)
	}
	rw.rows++
}

func (rw *rowsWriter) close() error {
	rw.w.WriteByte(0)
	rw.uvarint(uint64(rw.rows))
	return rw.w.Flush()
}

// rowsReader reads a rows file.
type rowsReader struct {
	r      *bufio.Reader
	header rowsHeader
	rows   int64
	name   string
}

// maxValue bounds one value (Cassandra's own limit for a value is 2 GiB; a backup of the
// deployment's tables has nothing near 256 MiB): a damaged length cannot make us allocate
// without limit.
const maxValue = 256 << 20

func newRowsReader(r io.Reader, name string) (*rowsReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(rowsMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != rowsMagic {
		return nil, fmt.Errorf("%s: not a rows file of this apimctl (%v)", name, err)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n > 1<<20 {
		return nil, fmt.Errorf("%s: damaged header", name)
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(br, hb); err != nil {
		return nil, fmt.Errorf("%s: damaged header: %w", name, err)
	}
	rr := &rowsReader{r: br, name: name}
	if err := json.Unmarshal(hb, &rr.header); err != nil {
		return nil, fmt.Errorf("%s: damaged header: %w", name, err)
	}
	return rr, nil
}

// next reads one row into vals (len = number of columns); the values share one new buffer,
// so a row may be kept while the next is read. It returns io.EOF after the last row.
func (rr *rowsReader) next(vals [][]byte) error {
	tag, err := rr.r.ReadByte()
	if err != nil {
		return rr.damaged(err)
	}
	if tag == 0 {
		n, err := binary.ReadUvarint(rr.r)
		if err != nil {
			return rr.damaged(err)
		}
		if int64(n) != rr.rows {
			return fmt.Errorf("%s: %d rows read, the file says %d", rr.name, rr.rows, n)
		}
		return io.EOF
	}
	if tag != 1 {
		return fmt.Errorf("%s: damaged row %d", rr.name, rr.rows+1)
	}
	var lens [64]int
	ls := lens[:0]
	total := 0
	var buf []byte
	// Lengths and bytes alternate, so read each value into a growing buffer and re-slice at
	// the end (one allocation per row in the usual case).
	buf = make([]byte, 0, 256)
	for range vals {
		n, err := binary.ReadUvarint(rr.r)
		if err != nil {
			return rr.damaged(err)
		}
		if n > maxValue {
			return fmt.Errorf("%s: row %d has a value of %d bytes: damaged", rr.name, rr.rows+1, n-1)
		}
		if n == 0 {
			ls = append(ls, -1)
			continue
		}
		l := int(n - 1)
		ls = append(ls, l)
		start := len(buf)
		buf = append(buf, make([]byte, l)...)
		if _, err := io.ReadFull(rr.r, buf[start:]); err != nil {
			return rr.damaged(err)
		}
		total += l
	}
	off := 0
	for i, l := range ls {
		if l < 0 {
			vals[i] = nil
			continue
		}
		vals[i] = buf[off : off+l : off+l]
		off += l
	}
	rr.rows++
	return nil
}

func (rr *rowsReader) damaged(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: ends after %d rows without its end marker (truncated)", rr.name, rr.rows)
	}
	return err
}

// rawValue is a column value as the native protocol serializes it. As a scan destination
// it copies the bytes it is given; bound to a query it is sent as is.
type rawValue struct {
	b []byte
}

// UnmarshalCQL implements gocql.Unmarshaler.
func (v *rawValue) UnmarshalCQL(_ gocql.TypeInfo, data []byte) error {
	if data == nil {
		v.b = nil
		return nil
	}
	v.b = append(v.b[:0:0], data...)
	if v.b == nil {
		v.b = []byte{}
	}
	return nil
}

// boundValue is a value bound to a statement: its bytes go to the server unchanged.
type boundValue []byte

// MarshalCQL implements gocql.Marshaler.
func (v boundValue) MarshalCQL(gocql.TypeInfo) ([]byte, error) { return v, nil }

// tupleBytes serializes a tuple from its elements, as the native protocol does.
func tupleBytes(elems [][]byte) []byte {
	n := 0
	for _, e := range elems {
		n += 4 + len(e)
	}
	out := make([]byte, 0, n)
	for _, e := range elems {
		if e == nil {
			out = binary.BigEndian.AppendUint32(out, 0xFFFFFFFF)
			continue
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(e)))
		out = append(out, e...)
	}
	return out
}
