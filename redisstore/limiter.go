package redisstore

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/internal/keyed"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
)

// Limiter is a ratelimit.Limiter whose budget is shared by every replica: one
// GCRA bucket per key in Redis (github.com/go-redis/redis_rate/v10), and an
// adaptive rate and "paused until" time per key in Redis, so a "too frequent"
// answer seen by one replica slows down all of them. The rate recovers as the
// local one does, by Config.Increase per second while requests succeed, timed
// by Redis's clock so that replicas' clocks need not agree. While Redis is unreachable
// it is a local ratelimit.Adaptive with the same Config (so each replica then has
// the whole budget to itself; the adaptive slow-down still protects the vendor).
// Get one from [Fleet.Limiter].
type Limiter struct {
	f     *Fleet
	cfg   ratelimit.Config
	clk   clock.Clock
	gcra  *redis_rate.Limiter
	local *ratelimit.Adaptive

	// seen is the last shared rate seen per key, to skip needless writes; a key
	// idle for the Config's IdleTTL is forgotten, like the local limiter's.
	seen *keyed.Map[*seenRate]
}

// seenRate is a shared rate as last read or written, as float64 bits; zero
// means none seen yet.
type seenRate struct{ bits atomic.Uint64 }

func (r *seenRate) load() (float64, bool) {
	b := r.bits.Load()
	return math.Float64frombits(b), b != 0
}

func (r *seenRate) store(v float64) { r.bits.Store(math.Float64bits(v)) }

var _ ratelimit.Limiter = (*Limiter)(nil)

// Limiter returns a fleet-wide limiter. cfg means what it means for
// ratelimit.NewAdaptive, for the fleet as a whole: Rate is the budget of all
// replicas together, Burst the fleet's bucket, and the slow-down is shared. One
// difference: rate-limited answers that arrive while the key is already paused
// (answers to requests sent before the pause reached every replica) extend the
// pause but do not cut the rate again, so twenty replicas hit by one "too
// frequent" burst halve the rate once, not twenty times.
func (f *Fleet) Limiter(cfg ratelimit.Config) *Limiter {
	local := ratelimit.NewAdaptive(cfg)
	cfg = cfg.WithDefaults() // the same budget and recovery as the local fallback
	return &Limiter{
		f: f, cfg: cfg, clk: clock.OrReal(cfg.Clock),
		gcra:  redis_rate.NewLimiter(f.rdb),
		local: local,
		seen: keyed.New(keyed.Config[*seenRate]{
			IdleTTL: cfg.IdleTTL,
			Clock:   cfg.Clock,
			New:     func(string) *seenRate { return new(seenRate) },
		}),
	}
}

// adaptTTL is how long an adapted rate outlives its last change in Redis;
// after that the key starts again at the full rate.
const adaptTTL = time.Hour

var (
	// stateScript returns the key's adapted rate (ARGV[1] when none) and the
	// milliseconds left of its pause, by Redis's clock so that replicas' clocks
	// need not agree.
	stateScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'rate', 'until')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(v[1]) or tonumber(ARGV[1])
local pause = (tonumber(v[2]) or 0) - now
if pause < 0 then pause = 0 end
return {tostring(rate), pause}`)

	// slowScript records a rate-limited answer: pause until now+ARGV[4] ms (never
	// shortening a pause), and cut the rate by ARGV[3] down to ARGV[2] unless
	// the key was already paused. ARGV[1] is the full rate, ARGV[5] the TTL.
	// 'at' is when the rate last changed, the start of its recovery.
	slowScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'rate', 'until')
local rate = tonumber(v[1]) or tonumber(ARGV[1])
local untl = tonumber(v[2]) or 0
if untl <= now then
  rate = math.max(tonumber(ARGV[2]), rate * tonumber(ARGV[3]))
end
local nu = now + tonumber(ARGV[4])
if nu > untl then untl = nu end
redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'until', tostring(untl), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return tostring(rate)`)

	// recoverScript records a success: once the pause is over, a reduced rate
	// gains ARGV[2] per second since it last changed, up to ARGV[1], by Redis's
	// clock.
	recoverScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'rate', 'until', 'at')
local r = tonumber(v[1])
if not r then return ARGV[1] end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl, at = tonumber(v[2]) or 0, tonumber(v[3]) or now
if untl > now or now <= at then return tostring(r) end
r = math.min(tonumber(ARGV[1]), r + tonumber(ARGV[2]) * (now - at) / 1000)
redis.call('HSET', KEYS[1], 'rate', tostring(r), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return tostring(r)`)
)

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Rate returns the current shared rate of key in requests per second (the local
// fallback's while Redis is unreachable).
func (l *Limiter) Rate(ctx context.Context, key string) float64 {
	if rate, _, err := l.state(ctx, key); err == nil {
		return rate
	}
	return l.local.Rate(key)
}

func (l *Limiter) state(ctx context.Context, key string) (rate float64, pause time.Duration, err error) {
	if !l.f.usable() {
		return 0, 0, ErrUnavailable
	}
	var v []any
	err = l.f.do(ctx, func(ctx context.Context) error {
		var err error
		v, err = stateScript.Run(ctx, l.f.rdb, []string{l.adaptKey(key)}, ftoa(l.cfg.Rate)).Slice()
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	if len(v) != 2 {
		return 0, 0, fmt.Errorf("redisstore: unexpected limiter state %v", v)
	}
	s, _ := v[0].(string)
	ms, _ := v[1].(int64)
	rate, err = strconv.ParseFloat(s, 64)
	if err != nil || rate <= 0 {
		rate = l.cfg.Rate
	}
	l.seen.Get(key).store(rate)
	return rate, time.Duration(ms) * time.Millisecond, nil
}

// Wait implements ratelimit.Limiter: it waits out a shared pause, then takes one
// request from the key's shared GCRA bucket at the shared rate, polling Redis
// when the bucket is empty. Like ratelimit.Adaptive it fails at once, with a
// *ratelimit.WaitError, when the wait would outlast ctx's deadline. If Redis
// fails it waits on the local fallback instead.
func (l *Limiter) Wait(ctx context.Context, key string) error {
	for {
		rate, pause, err := l.state(ctx, key)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return l.local.Wait(ctx, key)
		}
		wait := pause
		if wait <= 0 {
			var res *redis_rate.Result
			err := l.f.do(ctx, func(ctx context.Context) error {
				var err error
				res, err = l.gcra.Allow(ctx, l.f.key("rl:"+key, ""), gcraLimit(rate, l.cfg.Burst))
				return err
			})
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return l.local.Wait(ctx, key)
			}
			if res.Allowed > 0 {
				return nil
			}
			wait = max(res.RetryAfter, time.Millisecond)
		}
		if dl, ok := ctx.Deadline(); ok && dl.Sub(l.clk.Now()) < wait {
			return &ratelimit.WaitError{Key: key, Wait: wait}
		}
		if err := l.clk.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// gcraLimit expresses a fractional rate (requests per second) in redis_rate's
// integer Limit: per 1000 s, so a rate of 0.5/s is 500 per 1000 s.
func gcraLimit(rate float64, burst int) redis_rate.Limit {
	return redis_rate.Limit{Rate: max(1, int(math.Round(rate*1000))), Period: 1000 * time.Second, Burst: burst}
}

// Observe implements ratelimit.Limiter. A rate-limited outcome pauses the key
// fleet-wide for its delay hint (or Config.Pause) and cuts the shared rate; a
// success adds Config.Increase back to a reduced shared rate. The local fallback
// observes everything too, so it is current when Redis goes away.
func (l *Limiter) Observe(key string, res outcome.Result) {
	switch res.Kind {
	case outcome.RateLimited, outcome.Success:
	default:
		return
	}
	l.local.Observe(key, res)
	if !l.f.usable() {
		return
	}
	akey := []string{l.adaptKey(key)}
	ttl := adaptTTL.Milliseconds()
	var script *redis.Script
	var args []any
	if res.Kind == outcome.RateLimited {
		pause := res.After
		if pause <= 0 {
			pause = l.cfg.Pause
		}
		pause = min(pause, l.cfg.MaxPause)
		script, args = slowScript, []any{ftoa(l.cfg.Rate), ftoa(l.cfg.MinRate), ftoa(l.cfg.Decrease), pause.Milliseconds(), ttl}
	} else {
		if seen, ok := l.seen.Get(key).load(); ok && seen >= l.cfg.Rate {
			return // at full rate already: nothing to recover, no write
		}
		script, args = recoverScript, []any{ftoa(l.cfg.Rate), ftoa(l.cfg.Increase), ttl}
	}
	var s string
	err := l.f.do(context.Background(), func(ctx context.Context) error {
		var err error
		s, err = script.Run(ctx, l.f.rdb, akey, args...).Text()
		return err
	})
	if err != nil {
		return
	}
	if r, err := strconv.ParseFloat(s, 64); err == nil {
		l.seen.Get(key).store(r)
	}
}

// adaptKey is the Redis hash of key's adapted rate and pause; it shares its
// hash tag with the GCRA bucket.
func (l *Limiter) adaptKey(key string) string { return l.f.key("rl:"+key, "adapt") }
