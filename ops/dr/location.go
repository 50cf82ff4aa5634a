package dr

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/internal/statedir"
	"github.com/apimctl/apimctl/ops/action"
)

// Where backups are kept: a local directory (the default), file:///path, or an Azure Blob
// container (azure://container/prefix) whose credentials come only from the environment
// (AZURE_STORAGE_CONNECTION_STRING or its _FILE, or AZURE_STORAGE_ACCOUNT with
// AZURE_STORAGE_KEY or its _FILE, optionally AZURE_STORAGE_BLOB_ENDPOINT).

// DefaultBackupDir is $APIMCTL_BACKUP_DIR, else backups in apimctl's state directory.
func DefaultBackupDir(getenv func(string) string) string {
	return statedir.Path(getenv, "APIMCTL_BACKUP_DIR", "backups")
}

// DefaultLocation is $APIMCTL_BACKUP_LOCATION (a directory or azure://container/prefix),
// else DefaultBackupDir.
func DefaultLocation(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if l := getenv("APIMCTL_BACKUP_LOCATION"); l != "" {
		return l
	}
	return DefaultBackupDir(getenv)
}

// OpenLocation opens where ("" is DefaultLocation) with credentials from getenv (os.Getenv
// when nil). It only parses and reads the environment: nothing is contacted.
func OpenLocation(ctx context.Context, where string, getenv func(string) string) (backup.Location, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if where == "" {
		where = DefaultLocation(getenv)
	}
	return backup.OpenLocation(ctx, where, getenv)
}

// IsPath says whether a backup argument is the path of a local backup directory rather than
// an ID in a location.
func IsPath(idOrPath string) bool {
	return strings.ContainsRune(idOrPath, filepath.Separator) || strings.ContainsRune(idOrPath, '/')
}

// Locate returns the location and ID of a backup given by ID (in loc) or by the path of its
// local directory (its parent is then the location).
func Locate(loc backup.Location, idOrPath string) (backup.Location, string) {
	if IsPath(idOrPath) {
		p := filepath.Clean(idOrPath)
		return backup.Dir(filepath.Dir(p)), filepath.Base(p)
	}
	return loc, idOrPath
}

// locationOf is the location and ID of a backup's local directory.
func locationOf(dir string) (backup.Location, string) {
	p := filepath.Clean(dir)
	return backup.Dir(filepath.Dir(p)), filepath.Base(p)
}

// Newest is the newest complete backup in loc, nil when there is none.
func Newest(ctx context.Context, loc backup.Location) (*backup.Summary, error) {
	all, err := backup.ListAt(ctx, loc)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		if s.Complete {
			return &s, nil
		}
	}
	return nil, nil
}

// ReadError gives an error of reading a backup its kind: a backup that is not there, not
// one, damaged or from a newer apimctl is bad input (exit 2); a location that cannot be read
// (Azure down or answering 5xx, refused credentials, a disk error) is a failure (exit 1).
func ReadError(err error) error {
	if err == nil {
		return nil
	}
	var typed *action.Error
	switch {
	case errors.As(err, &typed):
		return err
	case errors.Is(err, backup.ErrNewerFormat), errors.Is(err, backup.ErrNotBackup), errors.Is(err, backup.ErrBadManifest),
		errors.Is(err, fs.ErrNotExist), strings.Contains(err.Error(), "is not a plain name"):
		return action.Usage(err)
	}
	return action.Failed(err, "check the backup location and its credentials (AZURE_STORAGE_*), then run it again")
}
