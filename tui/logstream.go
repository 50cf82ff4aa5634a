package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// logStream runs a LogReader off the UI goroutine and hands its lines over in batches: the
// reader blocks when the screen is behind (the channel is its only buffer), and a burst of
// lines — the whole log at open — becomes a few messages, not one per line.
type logStream struct {
	ch   chan string
	done chan struct{}
	err  error // set before done closes
}

// logBatch is what one wait delivers.
type logBatch struct {
	s     *logStream
	lines []string
	ended bool // the log ended (err says why, nil for its natural end)
	err   error
}

const (
	logChanSize  = 4096
	logBatchSize = 16384
)

func startLogStream(ctx context.Context, r LogReader, req model.LogRequest) *logStream {
	s := &logStream{ch: make(chan string, logChanSize), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		// A panic here, outside Bubble Tea's own recovery, would leave the terminal raw.
		defer func() {
			if p := recover(); p != nil {
				s.err = fmt.Errorf("reading the log failed: %v", p)
			}
		}()
		s.err = r.Logs(ctx, req, func(l string) {
			select {
			case s.ch <- l:
			case <-ctx.Done():
			}
		})
	}()
	return s
}

// wait is the re-arming command that delivers the next batch to d.
func (s *logStream) wait(d detailScreen) tea.Cmd {
	return func() tea.Msg { return detailMsg{d: d, data: s.next()} }
}

func (s *logStream) next() logBatch {
	b := logBatch{s: s}
	select {
	case l := <-s.ch:
		b.lines = append(b.lines, l)
	case <-s.done:
	}
drain:
	for len(b.lines) < logBatchSize {
		select {
		case l := <-s.ch:
			b.lines = append(b.lines, l)
		default:
			break drain
		}
	}
	select {
	case <-s.done:
		if len(s.ch) == 0 {
			b.ended, b.err = true, s.err
		}
	default:
	}
	return b
}

// saved is what writing a log to a file delivers.
type saved struct {
	path  string
	lines int
	err   error
}

// errExists says the file is there and the user has not confirmed replacing it.
var errExists = errors.New("exists")

// savePath resolves what the user typed: "~/" is the home directory; the result is clean
// and absolute. It refuses an empty path and a directory.
func savePath(typed string) (string, error) {
	p := strings.TrimSpace(typed)
	if p == "" {
		return "", errors.New("no file name given")
	}
	if strings.ContainsRune(p, 0) {
		return "", errors.New("the file name holds a NUL byte")
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no home directory for ~: %w", err)
		}
		p = filepath.Join(home, rest)
	}
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		return "", fmt.Errorf("%s is a directory", p)
	}
	return p, nil
}

// exists reports whether something is at path (a dangling symlink counts: it would be
// replaced).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// writeLogFile writes lines to path, readable by the user only (0600). The lines go to a
// temporary file in the same directory first; it then takes the name — by a hard link that
// fails if anything took the name meanwhile, or, when the user confirmed replacing it, by a
// rename, which replaces a symlink rather than writing through it.
func writeLogFile(path string, lines []string, replace bool) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".apimctl-log-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a link, the name stays; after a rename, there is none
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
		if b.Len() >= 1<<20 || i == len(lines)-1 {
			if _, err := f.WriteString(b.String()); err != nil {
				f.Close()
				return fmt.Errorf("write %s: %w", path, err)
			}
			b.Reset()
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if replace {
		return os.Rename(tmp, path)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return errExists
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
