package live

import (
	"context"
	"sync"
	"time"

	"github.com/apimctl/apimctl/internal/tick"
	"github.com/apimctl/apimctl/ops/model"
)

// BackupsInterval is how often the backups' location is read: a backup happens hours
// apart, and listing an Azure container reads every backup's manifest.
const BackupsInterval = time.Minute

// backupsSource polls the backup status (the newest backup of the scheduled location and
// the schedule) through the function the front end gives (ops/dr.BackupStatus): live does
// not know where backups are kept.
type backupsSource struct {
	read    func(ctx context.Context, now time.Time) model.BackupStatus
	opts    LiveOptions
	changed func()

	mu    sync.Mutex
	state model.BackupStatus
	tried bool
}

func (b *backupsSource) answered() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.read == nil || b.tried
}

func (b *backupsSource) run(ctx context.Context) {
	if b.read == nil {
		return
	}
	tick.Every(ctx, BackupsInterval, func() {
		cctx, cancel := context.WithTimeout(ctx, max(b.opts.CallTimeout, 30*time.Second))
		st := b.read(cctx, b.opts.Now())
		cancel()
		b.mu.Lock()
		b.state, b.tried = st, true
		b.mu.Unlock()
		b.changed()
	})
}

func (b *backupsSource) fill(s *model.Snapshot, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s.Backups = b.state
	if s.Backups.Last != nil {
		s.Backups.AgeSeconds = now.Sub(s.Backups.Last.Created).Round(time.Second).Seconds()
	}
}
