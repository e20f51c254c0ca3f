//go:build !unix

package soak

import "time"

// cpuTime is unknown here: the report shows zero CPU per request.
func cpuTime() time.Duration { return 0 }
