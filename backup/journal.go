package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Journal records a restore's progress, unit by unit, so that an interrupted restore
// resumes without redoing finished work or applying anything twice. The caller chooses
// where it lives and what it is keyed by (a restore's whole target: backup, context,
// keyspace map, database, namespace); the engines choose the keys inside it.
//
// Set must be durable when it returns: the engines rely on a state being recorded before
// they act on it (see CassandraRestore for the counter scheme).
type Journal interface {
	Get(key string) string
	Set(key, value string) error
}

// MemoryJournal is a Journal that keeps nothing across runs.
type MemoryJournal struct {
	mu sync.Mutex
	m  map[string]string
}

// Get implements Journal.
func (j *MemoryJournal) Get(key string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.m[key]
}

// Set implements Journal.
func (j *MemoryJournal) Set(key, value string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.m == nil {
		j.m = map[string]string{}
	}
	if value == "" {
		delete(j.m, key)
	} else {
		j.m[key] = value
	}
	return nil
}

// FileJournal is a Journal kept in a JSON file (0600), rewritten atomically and synced on
// every Set.
type FileJournal struct {
	path string
	mem  MemoryJournal
	wmu  sync.Mutex
}

// OpenJournal reads the journal at path (a missing file is an empty journal).
func OpenJournal(path string) (*FileJournal, error) {
	j := &FileJournal{path: path}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &j.mem.m); err != nil {
		return nil, fmt.Errorf("restore journal %s is damaged (%v): remove it to restore from the start", path, err)
	}
	return j, nil
}

// Get implements Journal.
func (j *FileJournal) Get(key string) string { return j.mem.Get(key) }

// Set implements Journal.
func (j *FileJournal) Set(key, value string) error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	_ = j.mem.Set(key, value)
	j.mem.mu.Lock()
	b, err := json.MarshalIndent(j.mem.m, "", " ")
	j.mem.mu.Unlock()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(j.path), 0o700); err != nil {
		return err
	}
	tmp := j.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err != nil {
		return fmt.Errorf("restore journal %s: %w", j.path, err)
	}
	return nil
}

// Remove deletes the journal file (a finished restore run again starts from the start).
func (j *FileJournal) Remove() error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	j.mem.mu.Lock()
	j.mem.m = nil
	j.mem.mu.Unlock()
	if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// JournalName names a restore's journal file after everything that defines its target
// (backup, context, keyspace map, database, namespace, …): the same restore to the same
// target finds its journal again, a restore to another target never does. The parts are
// hashed, so names with any characters make one safe file name.
func JournalName(target ...string) string {
	h := sha256.New()
	for _, t := range target {
		fmt.Fprintf(h, "%d:%s\x00", len(t), t)
	}
	return "restore-" + hex.EncodeToString(h.Sum(nil))[:32] + ".json"
}
