package backup

import (
	"context"
	"sync"
)

// pool is the worker pool of the exports and the restores: workers take items from one
// channel; the first error cancels the pool's context (so the feed stops and the others'
// work ends early) and is the one run returns.
type pool[T any] struct {
	ctx    context.Context
	cancel context.CancelFunc
	work   chan T
	wg     sync.WaitGroup
	mu     sync.Mutex
	first  error
}

// newPool makes a pool whose workers run under ctx; cancel is ctx's own (the caller defers it).
func newPool[T any](ctx context.Context, cancel context.CancelFunc) *pool[T] {
	return &pool[T]{ctx: ctx, cancel: cancel, work: make(chan T)}
}

// fail records err as the pool's error if it is the first, and cancels the pool's context.
func (p *pool[T]) fail(err error) {
	p.mu.Lock()
	if p.first == nil {
		p.first = err
		p.cancel()
	}
	p.mu.Unlock()
}

// serve calls do with each item it takes until the feed ends; an error do returns fails
// the pool (and serve goes on taking items, which the cancelled context ends quickly).
func (p *pool[T]) serve(do func(context.Context, T) error) {
	for item := range p.work {
		if err := do(p.ctx, item); err != nil {
			p.fail(err)
		}
	}
}

// worker starts a goroutine that serves do.
func (p *pool[T]) worker(do func(context.Context, T) error) {
	p.wg.Go(func() { p.serve(do) })
}

// run feeds items to the workers until all are taken or the pool's context ends, waits for
// the workers and returns the first error, else the context's.
func (p *pool[T]) run(items []T) error {
feed:
	for _, item := range items {
		select {
		case p.work <- item:
		case <-p.ctx.Done():
			break feed
		}
	}
	close(p.work)
	p.wg.Wait()
	if p.first != nil {
		return p.first
	}
	return p.ctx.Err()
}
