package live

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPollSurvivesAPanickingSource: a source whose call panics records that as its error and
// keeps polling; the process (and the console's terminal) goes on.
func TestPollSurvivesAPanickingSource(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var fresh freshness
	calls := make(chan struct{}, 10)
	opts := LiveOptions{PollInterval: 10 * time.Millisecond, CallTimeout: time.Second, Now: time.Now}
	done := make(chan struct{})
	go func() {
		defer close(done)
		poll(ctx, opts, &fresh, func() {}, nil, func(context.Context) error {
			calls <- struct{}{}
			var m map[string]int
			m["boom"]++ // a nil map write: a bug in a source
			return nil
		})
	}()
	<-calls
	<-calls // polled again after the panic
	cancel()
	<-done
	st := fresh.get(time.Now(), time.Minute)
	if !strings.Contains(st.Error, "internal error") || !strings.Contains(st.Error, "nil map") {
		t.Fatalf("source state %+v", st)
	}
}
