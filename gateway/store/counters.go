package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/gocql/gocql"
)

// ErrCountUnknown means a counter update was sent but its outcome is unknown (a timeout after
// it left): it may have been counted. The caller must not send it again, which could count
// it twice; it should take the delta as counted.
var ErrCountUnknown = errors.New("counter update sent, outcome unknown")

// AddCount adds delta to the shared counter of bucket in window and returns the total, both at
// QUORUM. A counter update is not idempotent: it is never retried, by the driver (no retry
// policy, marked non-idempotent) nor, after an unknown outcome, by the caller
// (ErrCountUnknown). A failed add that certainly did not count (no host, not enough replicas
// alive) is an ordinary error: the caller keeps its delta for the next sync.
func (c *Cassandra) AddCount(ctx context.Context, bucket string, window int64, delta int64) (int64, error) {
	if delta != 0 {
		if err := c.s.Query(`UPDATE `+c.tt("throttle")+` SET count = count + ? WHERE bucket = ? AND window = ?`, delta, bucket, window).
			WithContext(ctx).Idempotent(false).RetryPolicy(nil).Exec(); err != nil {
			if maybeApplied(err) {
				return 0, fmt.Errorf("%w: %v", ErrCountUnknown, err)
			}
			return 0, err
		}
	}
	var total int64
	err := c.s.Query(`SELECT count FROM `+c.tt("throttle")+` WHERE bucket = ? AND window = ?`, bucket, window).
		WithContext(ctx).Scan(&total)
	if err != nil {
		if notFound(err) == ErrNotFound {
			return 0, nil // nobody counted in this window yet
		}
		return 0, err
	}
	return total, nil
}

// maybeApplied reports whether a failed write may still have been applied: every failure
// after the statement left, unless Cassandra said it did not run it.
func maybeApplied(err error) bool {
	var unavailable *gocql.RequestErrUnavailable
	switch {
	case errors.As(err, &unavailable): // the coordinator refused before writing
		return false
	case errors.Is(err, gocql.ErrNoConnections), errors.Is(err, gocql.ErrSessionClosed):
		return false // never sent
	}
	return true
}

// DeleteCount removes a finished window's counter (counter tables cannot expire rows by TTL).
func (c *Cassandra) DeleteCount(ctx context.Context, bucket string, window int64) error {
	return c.s.Query(`DELETE FROM `+c.tt("throttle")+` WHERE bucket = ? AND window = ?`, bucket, window).
		WithContext(ctx).Exec()
}
