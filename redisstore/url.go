package redisstore

import (
	"errors"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ParseURL returns a client for the Redis a URL names, in go-redis's own URL
// forms, for [New]:
//
//   - a single node, as redis.ParseURL reads it:
//     redis://user:pass@host:6379/0 (rediss:// for TLS, unix:// for a socket);
//   - a Redis Cluster, as redis.ParseClusterURL reads it, whenever the URL lists
//     more than one address: redis://h1:p1?addr=h2:p2&addr=h3:p3. A cluster
//     reached through one seed address says so with the scheme
//     redis+cluster:// (or rediss+cluster://);
//   - Sentinel, as redis.ParseFailoverURL reads it, whenever the URL names a
//     master: redis://s1:26379?addr=s2:26379&master_name=mymaster (the host and
//     the addr parameters are the sentinels).
//
// Query parameters set the client's options as go-redis documents them
// (dial_timeout=200ms, max_retries=2...). ParseURL also sets
// ContextTimeoutEnabled (so each call ends at the fleet's op timeout without a
// watchdog goroutine), DialerRetries 1 and, unless the URL sets max_retries,
// MaxRetries -1, so that a dead Redis is noticed at once and the fleet falls
// back, instead of go-redis retrying for seconds.
// Errors never contain the URL's password.
func ParseURL(s string) (redis.UniversalClient, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("redisstore: redis URL does not parse")
	}
	q := u.Query()
	cluster := false
	switch u.Scheme {
	case "redis+cluster", "rediss+cluster":
		cluster = true
		u.Scheme = strings.TrimSuffix(u.Scheme, "+cluster")
	}
	// go-redis reads max_retries from the URL, but not these two.
	keepRetries := q.Has("max_retries")
	s = u.String()
	clean := func(err error) error {
		msg := err.Error()
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "REDACTED")
		}
		return errors.New("redisstore: redis URL: " + msg)
	}
	tune := func(ctxTimeout *bool, maxRetries, dialerRetries *int) {
		*ctxTimeout = true
		if !keepRetries {
			*maxRetries = -1
		}
		*dialerRetries = 1
	}
	switch {
	case q.Has("master_name"):
		opt, err := redis.ParseFailoverURL(s)
		if err != nil {
			return nil, clean(err)
		}
		tune(&opt.ContextTimeoutEnabled, &opt.MaxRetries, &opt.DialerRetries)
		return redis.NewFailoverClient(opt), nil
	case cluster || q.Has("addr"):
		opt, err := redis.ParseClusterURL(s)
		if err != nil {
			return nil, clean(err)
		}
		tune(&opt.ContextTimeoutEnabled, &opt.MaxRetries, &opt.DialerRetries)
		return redis.NewClusterClient(opt), nil
	}
	opt, err := redis.ParseURL(s)
	if err != nil {
		return nil, clean(err)
	}
	tune(&opt.ContextTimeoutEnabled, &opt.MaxRetries, &opt.DialerRetries)
	return redis.NewClient(opt), nil
}
