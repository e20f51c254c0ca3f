package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/authwire/authwire/breaker"
)

// BreakerStore is a breaker.SharedStore on Redis, for breaker.Config.Store:
// replicas share each breaker's state, so when one replica's requests open it,
// the others stop calling the vendor too. Get one from [Fleet.BreakerStore].
//
// Each breaker is one Redis hash: state, generation, expiry, consecutive
// failures and half-open probes, changed only by Lua scripts that run
// gobreaker's state machine atomically on Redis's clock (so replicas' clocks
// need not agree). No lock is held while a request runs: a request costs one
// script call before it is sent (which reads the state and, in half-open, takes
// a fleet-wide probe slot) and, when the outcome changes something (a failure,
// a success after failures, a probe's answer), one after. A success in the
// closed state with no failures counted writes nothing.
//
// The state is read on every request, not cached: a cache would let a replica
// send requests to a vendor another replica has just found down, and the
// half-open probe limit must be taken atomically anyway. One script call costs
// a Redis round trip (about a tenth of a millisecond on a local network),
// bounded by [WithOpTimeout].
//
// While Redis is unreachable every call fails at once with [ErrUnavailable] and
// the breaker decides with its local gobreaker.CircuitBreaker instead.
type BreakerStore struct {
	f *Fleet
}

var _ breaker.SharedStore = (*BreakerStore)(nil)

// BreakerStore returns the fleet's breaker store. One store serves any number of
// breakers, each under its own key.
func (f *Fleet) BreakerStore() *BreakerStore { return &BreakerStore{f: f} }

// breakerTTL bounds how long a breaker's state outlives its last write.
const breakerTTL = 24 * time.Hour

// The breaker hash: s state (gobreaker.State's numbers), g generation, e expiry
// in Redis ms (open: when it half-opens; half-open: when unanswered probe slots
// are given back; closed: when Interval clears the counts; 0 none), f
// consecutive failures (closed), p probes admitted and k consecutive successes
// (half-open).
//
// ARGV of both scripts: 1 failures to trip, 2 max probes, 3 timeout ms, 4
// interval ms (0 none), 5 TTL ms.
const breakerPrelude = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 's', 'g', 'e', 'f', 'p', 'k')
local s, g, e = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0
local f, p, k = tonumber(v[4]) or 0, tonumber(v[5]) or 0, tonumber(v[6]) or 0
local trip, maxp, timeout, interval = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function save()
  redis.call('HSET', KEYS[1], 's', s, 'g', g, 'e', e, 'f', f, 'p', p, 'k', k)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
local function become(ns, ne)
  s, g, e, f, p, k = ns, g + 1, ne, 0, 0, 0
end
-- Time-driven transitions, as gobreaker makes them when it reads its state.
if s == 2 and now >= e then
  become(1, now + timeout) -- open -> half-open
  save()
elseif s == 1 and now >= e then
  become(1, now + timeout) -- probes never answered (their replicas died): a new round
  save()
elseif s == 0 and e > 0 and now >= e then
  become(0, 0) -- the interval is over: clear the counts
  save()
end
`

var (
	// breakerAllowScript returns {state, generation, admitted, failures}. With
	// ARGV[6] = 1 it admits a request: in half-open, only while probe slots are
	// left.
	breakerAllowScript = redis.NewScript(breakerPrelude + `
local admit = 0
if ARGV[6] == '1' then
  if s == 0 then
    admit = 1
  elseif s == 1 and p < maxp then
    admit = 1
    p = p + 1
    save()
  end
end
return {s, g, admit, f}`)

	// breakerDoneScript records an outcome (ARGV[7]: 0 success, 1 failure, 2
	// excluded) of a request admitted in generation ARGV[6]; an outcome of an
	// older generation is ignored. It returns {state, generation}.
	breakerDoneScript = redis.NewScript(breakerPrelude + `
local gen, res = tonumber(ARGV[6]), ARGV[7]
if g ~= gen then return {s, g} end
if s == 0 then
  if res == '0' and f > 0 then
    f = 0
    save()
  elseif res == '1' then
    f = f + 1
    if f >= trip then
      become(2, now + timeout)
    elseif interval > 0 and e == 0 then
      e = now + interval
    end
    save()
  end
elseif s == 1 then
  if res == '1' then
    become(2, now + timeout)
  elseif res == '0' then
    k = k + 1
    if k >= maxp then become(0, 0) end
  elseif p > 0 then
    p = p - 1 -- an excluded probe gives its slot back
  end
  save()
end
return {s, g}`)
)

func (b *BreakerStore) args(p breaker.Policy) []any {
	return []any{p.ConsecutiveFailures, max(p.MaxRequests, 1), p.Timeout.Milliseconds(), p.Interval.Milliseconds(), breakerTTL.Milliseconds()}
}

func (b *BreakerStore) run(ctx context.Context, s *redis.Script, name string, args []any) ([]any, error) {
	if !b.f.usable() {
		return nil, ErrUnavailable
	}
	var v []any
	err := b.f.do(ctx, func(ctx context.Context) error {
		var err error
		v, err = s.Run(ctx, b.f.rdb, []string{b.f.key("breaker:"+name, "")}, args...).Slice()
		return err
	})
	if err != nil {
		return nil, opErr("breaker", err)
	}
	if len(v) < 2 {
		return nil, fmt.Errorf("redisstore: unexpected breaker state %v", v)
	}
	return v, nil
}

func num(v any) int64 {
	n, _ := v.(int64)
	return n
}

// Allow implements breaker.SharedStore.
func (b *BreakerStore) Allow(ctx context.Context, name string, p breaker.Policy) (breaker.Ticket, error) {
	v, err := b.run(ctx, breakerAllowScript, name, append(b.args(p), 1))
	if err != nil || len(v) != 4 {
		return breaker.Ticket{}, err
	}
	return breaker.Ticket{State: gobreaker.State(num(v[0])), Generation: uint64(num(v[1])),
		Allowed: num(v[2]) == 1, Failures: uint32(num(v[3]))}, nil
}

// Done implements breaker.SharedStore.
func (b *BreakerStore) Done(ctx context.Context, name string, t breaker.Ticket, r breaker.Result, p breaker.Policy) (gobreaker.State, error) {
	res := "0"
	switch r {
	case breaker.Failure:
		res = "1"
	case breaker.Excluded:
		res = "2"
	}
	v, err := b.run(ctx, breakerDoneScript, name, append(b.args(p), strconv.FormatUint(t.Generation, 10), res))
	if err != nil {
		return gobreaker.StateClosed, err
	}
	return gobreaker.State(num(v[0])), nil
}

// State implements breaker.SharedStore.
func (b *BreakerStore) State(ctx context.Context, name string, p breaker.Policy) (gobreaker.State, error) {
	v, err := b.run(ctx, breakerAllowScript, name, append(b.args(p), 0))
	if err != nil {
		return gobreaker.StateClosed, err
	}
	return gobreaker.State(num(v[0])), nil
}
