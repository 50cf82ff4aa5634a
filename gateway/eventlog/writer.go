package eventlog

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apimctl/apimctl/gateway/metrics"
)

// Options configure a Writer.
type Options struct {
	Dir         string // shared events directory
	Group       string
	Instance    string // this gateway (pod name)
	MaxDiskSize int64  // cap on this gateway's files in Dir
	MaxFileSize int64  // rotate after this many bytes
	Buffer      int    // events queued before new ones are dropped
	Metrics     *metrics.Metrics
	Logger      *slog.Logger
}

// Writer appends events to rotating files. Log never blocks: a full queue drops the event and
// counts it, because a slow disk must not slow API traffic.
type Writer struct {
	opts  Options
	ch    chan Event
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once
	beat  atomic.Int64 // unix nanos of the writer loop's last iteration
	files []fileInfo   // own closed files, oldest first
	total int64        // bytes of own files on disk, current included
	cur   *os.File
	curSz int64
	bw    *bufio.Writer
	buf   []byte
	errAt time.Time
}

type fileInfo struct {
	name string
	size int64
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// FilePrefix starts the name of every event file: events-<instance>-<unix nanos>.jsonl.
const FilePrefix = "events-"

// Open starts a Writer. Files this instance left in Dir before a restart count against the cap.
func Open(o Options) (*Writer, error) {
	if o.Dir == "" {
		return nil, errors.New("eventlog: no directory")
	}
	if o.MaxFileSize <= 0 || o.MaxDiskSize < 2*o.MaxFileSize {
		return nil, fmt.Errorf("eventlog: max file size %d must be positive and at most half of the disk cap %d", o.MaxFileSize, o.MaxDiskSize)
	}
	if o.Buffer <= 0 {
		o.Buffer = 16384
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Instance = unsafeChars.ReplaceAllString(o.Instance, "_")
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("eventlog: create %s: %w", o.Dir, err)
	}
	w := &Writer{opts: o, ch: make(chan Event, o.Buffer), quit: make(chan struct{}), done: make(chan struct{})}
	if err := w.scan(); err != nil {
		return nil, err
	}
	w.enforceCap(o.MaxFileSize)
	w.beat.Store(time.Now().UnixNano())
	go w.loop()
	return w, nil
}

func (w *Writer) ownPrefix() string { return FilePrefix + w.opts.Instance + "-" }

func (w *Writer) scan() error {
	ents, err := os.ReadDir(w.opts.Dir)
	if err != nil {
		return fmt.Errorf("eventlog: read %s: %w", w.opts.Dir, err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), w.ownPrefix()) || !strings.HasSuffix(e.Name(), ".jsonl") {
			continue
		}
		// Only names made of prefix + digits are ours: another instance's name may extend ours.
		mid := strings.TrimSuffix(strings.TrimPrefix(e.Name(), w.ownPrefix()), ".jsonl")
		if strings.Trim(mid, "0123456789") != "" {
			continue
		}
		if fi, err := e.Info(); err == nil {
			w.files = append(w.files, fileInfo{e.Name(), fi.Size()})
			w.total += fi.Size()
		}
	}
	sort.Slice(w.files, func(i, j int) bool { return w.files[i].name < w.files[j].name })
	return nil
}

// Log queues an event; it returns false if the event was dropped.
func (w *Writer) Log(e Event) bool {
	select {
	case w.ch <- e:
		return true
	default:
		if w.opts.Metrics != nil {
			w.opts.Metrics.EventsDropped.Inc()
		}
		return false
	}
}

// Close writes the queued events, closes the file and stops the writer.
func (w *Writer) Close() error {
	w.once.Do(func() { close(w.quit) })
	<-w.done
	return nil
}

// Alive reports an error when the writer loop has made no progress for a while (stuck on a
// hung disk): the liveness probe uses it.
func (w *Writer) Alive() error {
	last := time.Unix(0, w.beat.Load())
	if d := time.Since(last); d > 30*time.Second {
		select {
		case <-w.done:
			return nil
		default:
		}
		return fmt.Errorf("event writer made no progress for %s", d.Truncate(time.Second))
	}
	return nil
}

// DiskBytes is how many bytes this writer's files occupy.
func (w *Writer) DiskBytes() int64 { return atomic.LoadInt64(&w.total) }

// drainEvery is how often the writer takes the queued events. Waking per event would cost a
// goroutine hand-off and a write syscall per request; waking on a tick costs one of each per
// batch. Events reach the disk at most this late (plus the flush), which the ANM does not mind.
const drainEvery = 50 * time.Millisecond

func (w *Writer) loop() {
	defer close(w.done)
	tick := time.NewTicker(drainEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			w.drain()
		case <-w.quit:
			w.drain()
			if w.cur != nil {
				_ = w.cur.Close()
				w.cur = nil
			}
			return
		}
		w.beat.Store(time.Now().UnixNano())
	}
}

// drain writes every queued event and flushes once.
func (w *Writer) drain() {
	n := 0
	for {
		select {
		case e := <-w.ch:
			w.write(&e)
			n++
			continue
		default:
		}
		break
	}
	if n > 0 {
		w.flush()
	}
}

func (w *Writer) write(e *Event) {
	w.buf = appendJSON(w.buf[:0], e, w.opts.Group, w.opts.Instance)
	n := int64(len(w.buf))
	if w.cur != nil && w.curSz+n > w.opts.MaxFileSize {
		w.rotate()
	}
	if w.cur == nil {
		if err := w.openNew(); err != nil {
			w.failed(err)
			return
		}
	}
	if _, err := w.bw.Write(w.buf); err != nil {
		w.failed(err)
		return
	}
	w.curSz += n
	atomic.AddInt64(&w.total, n)
	if m := w.opts.Metrics; m != nil {
		m.EventBytes.Add(float64(n))
		m.EventsWritten.Inc()
		m.EventDiskBytes.Set(float64(atomic.LoadInt64(&w.total)))
	}
}

func (w *Writer) flush() {
	if w.bw == nil {
		return
	}
	if err := w.bw.Flush(); err != nil {
		w.failed(err)
	}
}

// failed drops the current file after a disk error; the next event opens a new one.
func (w *Writer) failed(err error) {
	if m := w.opts.Metrics; m != nil {
		m.EventsDropped.Inc()
	}
	if time.Since(w.errAt) > 10*time.Second {
		w.errAt = time.Now()
		w.opts.Logger.Error("event log write failed; events are being dropped", "dir", w.opts.Dir, "err", err)
	}
	if w.cur != nil {
		_ = w.cur.Close()
		w.files = append(w.files, fileInfo{filepath.Base(w.cur.Name()), w.curSz})
		w.cur, w.bw = nil, nil
	}
}

func (w *Writer) rotate() {
	w.flush()
	if w.cur == nil {
		return
	}
	_ = w.cur.Close()
	w.files = append(w.files, fileInfo{filepath.Base(w.cur.Name()), w.curSz})
	w.cur, w.bw, w.curSz = nil, nil, 0
}

func (w *Writer) openNew() error {
	// Make room for a full new file first, so the cap holds at every moment.
	w.enforceCap(w.opts.MaxFileSize)
	name := fmt.Sprintf("%s%020d.jsonl", w.ownPrefix(), time.Now().UnixNano())
	f, err := os.OpenFile(filepath.Join(w.opts.Dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	w.cur, w.curSz = f, 0
	if w.bw == nil {
		w.bw = bufio.NewWriterSize(f, 64<<10)
	} else {
		w.bw.Reset(f)
	}
	return nil
}

// enforceCap deletes this instance's oldest files until reserve more bytes fit under the cap.
func (w *Writer) enforceCap(reserve int64) {
	for len(w.files) > 0 && atomic.LoadInt64(&w.total)+reserve > w.opts.MaxDiskSize {
		f := w.files[0]
		w.files = w.files[1:]
		err := os.Remove(filepath.Join(w.opts.Dir, f.name))
		if err != nil && !os.IsNotExist(err) {
			w.opts.Logger.Error("event log: cannot delete old file", "file", f.name, "err", err)
			continue
		}
		atomic.AddInt64(&w.total, -f.size)
		if m := w.opts.Metrics; m != nil {
			m.EventFilesDeleted.Inc()
		}
	}
	if m := w.opts.Metrics; m != nil {
		m.EventDiskBytes.Set(float64(atomic.LoadInt64(&w.total)))
	}
}
