//go:build !race

package vertexplay_test

const raceEnabled = false
