package store

import (
	"context"
)

// AddCount adds delta to the shared counter of bucket in window and returns the total, both at
// QUORUM. A counter update is not idempotent, so it is never retried by the driver: a failed
// add is retried by the caller with its local count still pending.
func (c *Cassandra) AddCount(ctx context.Context, bucket string, window int64, delta int64) (int64, error) {
	if delta != 0 {
		if err := c.s.Query(`UPDATE `+c.tt("throttle")+` SET count = count + ? WHERE bucket = ? AND window = ?`, delta, bucket, window).
			WithContext(ctx).Idempotent(false).Exec(); err != nil {
			return 0, err
		}
	}
	var total int64
	err := c.s.Query(`SELECT count FROM `+c.tt("throttle")+` WHERE bucket = ? AND window = ?`, bucket, window).
		WithContext(ctx).Idempotent(true).Scan(&total)
	if err != nil {
		if notFound(err) == ErrNotFound {
			return 0, nil // nobody counted in this window yet
		}
		return 0, err
	}
	return total, nil
}

// DeleteCount removes a finished window's counter (counter tables cannot expire rows by TTL).
func (c *Cassandra) DeleteCount(ctx context.Context, bucket string, window int64) error {
	return c.s.Query(`DELETE FROM `+c.tt("throttle")+` WHERE bucket = ? AND window = ?`, bucket, window).
		WithContext(ctx).Exec()
}
