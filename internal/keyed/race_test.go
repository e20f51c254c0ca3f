//go:build race

package keyed_test

// raceEnabled: the race detector multiplies memory and time; the memory test
// measures without it.
const raceEnabled = true
