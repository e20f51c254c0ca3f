package redisstore_test

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/authwire/authwire/redisstore"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url   string
		kind  string // node, cluster, sentinel
		addrs []string
	}{
		{"redis://127.0.0.1:6379/0", "node", []string{"127.0.0.1:6379"}},
		{"rediss://u:p@cache.internal:6380/2", "node", []string{"cache.internal:6380"}},
		{"redis://h1:7000?addr=h2:7001&addr=h3:7002", "cluster", []string{"h1:7000", "h2:7001", "h3:7002"}},
		{"redis+cluster://h1:7000", "cluster", []string{"h1:7000"}},
		{"redis://s1:26379?addr=s2:26379&master_name=mymaster", "sentinel", nil},
	} {
		t.Run(tc.url, func(t *testing.T) {
			c, err := redisstore.ParseURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			switch c := c.(type) {
			case *redis.ClusterClient:
				o := c.Options()
				if tc.kind != "cluster" || strings.Join(o.Addrs, ",") != strings.Join(tc.addrs, ",") || !o.ContextTimeoutEnabled || o.MaxRetries != -1 {
					t.Fatalf("cluster client %v, ctx timeout %v, max retries %d; want %s %v", o.Addrs, o.ContextTimeoutEnabled, o.MaxRetries, tc.kind, tc.addrs)
				}
			case *redis.Client:
				o := c.Options()
				if tc.kind == "cluster" || !o.ContextTimeoutEnabled || o.DialerRetries != 1 {
					t.Fatalf("client %s, ctx timeout %v; want %s", o.Addr, o.ContextTimeoutEnabled, tc.kind)
				}
				if tc.kind == "node" && o.Addr != tc.addrs[0] {
					t.Fatalf("addr %s, want %s", o.Addr, tc.addrs[0])
				}
				if tc.kind == "sentinel" && o.Addr != "FailoverClient" {
					t.Fatalf("sentinel URL gave a plain client on %s", o.Addr)
				}
			default:
				t.Fatalf("%T", c)
			}
		})
	}
	for _, bad := range []string{"redis://u:SECRET-PW@h:1?bogus=1", "redis://u:SECRET-PW@h:1?addr=h2:2&bogus=1", "::"} {
		_, err := redisstore.ParseURL(bad)
		if err == nil || strings.Contains(err.Error(), "SECRET-PW") {
			t.Fatalf("ParseURL(bad) = %v", err)
		}
	}
}
