//go:build race

package outcome

// raceEnabled: the race detector makes sync.Pool drop items (json.Valid takes
// its scanner from one), so allocation counts are not checked under it.
const raceEnabled = true
