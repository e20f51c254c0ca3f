package clock_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
)

func TestFakeSleepWakesOnAdvance(t *testing.T) {
	f := clock.NewFake(time.Unix(0, 0))
	done := make(chan error, 1)
	go func() { done <- f.Sleep(context.Background(), time.Minute) }()
	if err := f.WaitForSleepers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	f.Advance(59 * time.Second)
	if f.Sleepers() != 1 {
		t.Fatal("woke early")
	}
	f.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
}

func ExampleFake() {
	f := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f.Advance(90 * time.Second)
	fmt.Println(f.Now().Format(time.TimeOnly))
	// Output: 00:01:30
}
