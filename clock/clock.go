// Package clock lets time-dependent code run against real time in production and
// against a hand-driven [Fake] in tests, so no test has to sleep to reach a state.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock is the time source of every authwire component that reads the time or waits.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever comes first, and returns
	// ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the wall clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// OrReal returns c, or [Real] when c is nil: nil means default.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real
	}
	return c
}

// Fake is a [Clock] that moves only when told to. Sleepers wake when [Fake.Advance]
// moves the time past their deadline. The zero value is not usable; call [NewFake].
type Fake struct {
	mu       sync.Mutex
	now      time.Time
	sleepers []*sleeper
	changed  chan struct{} // closed and replaced whenever the sleeper set changes
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Sleep blocks until the fake time has advanced by d or ctx is done.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	f.mu.Lock()
	s := &sleeper{until: f.now.Add(d), wake: make(chan struct{})}
	f.sleepers = append(f.sleepers, s)
	f.notifyLocked()
	f.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		for i, x := range f.sleepers {
			if x == s {
				f.sleepers = append(f.sleepers[:i], f.sleepers[i+1:]...)
				break
			}
		}
		f.notifyLocked()
		f.mu.Unlock()
		return ctx.Err()
	}
}

// Advance moves the time forward by d and wakes every sleeper whose deadline passed.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	sort.Slice(f.sleepers, func(i, j int) bool { return f.sleepers[i].until.Before(f.sleepers[j].until) })
	n := 0
	for _, s := range f.sleepers {
		if !s.until.After(f.now) {
			close(s.wake)
			continue
		}
		f.sleepers[n] = s
		n++
	}
	f.sleepers = f.sleepers[:n]
	f.notifyLocked()
}

// Sleepers returns how many goroutines are blocked in [Fake.Sleep].
func (f *Fake) Sleepers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sleepers)
}

// WaitForSleepers blocks until at least n goroutines are sleeping or ctx is done.
// Tests use it instead of time.Sleep to know a goroutine reached its wait.
func (f *Fake) WaitForSleepers(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		count, ch := len(f.sleepers), f.changed
		f.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}
