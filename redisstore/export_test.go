package redisstore

// SeenKeys is the number of keys whose shared rate l remembers.
func (l *Limiter) SeenKeys() int { return l.seen.Len() }

// FirstTime exposes the bounded one-time warning set.
func (f *Fleet) FirstTime(name string) bool { return f.firstTime(name) }
