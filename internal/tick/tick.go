package tick

import (
	"context"
	"time"
)

// Every runs f now and then every interval until ctx ends.
func Every(ctx context.Context, interval time.Duration, f func()) {
	f()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
