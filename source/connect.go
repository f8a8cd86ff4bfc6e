package source

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Mode says how quotatop reaches Redis.
type Mode string

// Connection modes, selected by the URL scheme.
const (
	ModeStandalone Mode = "standalone"
	ModeSentinel   Mode = "sentinel"
	ModeCluster    Mode = "cluster"
)

// Conn describes how to reach the snapshot storage.
type Conn struct {
	// URL is redis://, rediss://, unix://, redis-sentinel://, rediss-sentinel://,
	// redis-cluster:// or rediss-cluster:// (see README).
	URL string
	// Password is used where the URL carries none (from QUOTATOP_REDIS_PASSWORD).
	Password string
	// SentinelPassword authenticates to the sentinels themselves.
	SentinelPassword string
	// CAFile is a PEM bundle of a private CA for rediss:// schemes; empty means the
	// system roots.
	CAFile string
	// Timeout bounds dialing and each command.
	Timeout time.Duration
}

// quietLogger drops go-redis's own log lines: they would land on stderr, which is the
// operator's screen in the live monitor. Every failure reaches quotatop as an error anyway.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietLogger{}) }

// connect builds the go-redis client the URL asks for. Nothing is dialed yet.
func connect(c Conn) (redis.UniversalClient, Mode, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, "", fmt.Errorf("bad Redis URL: %w", redactErr(err, c.URL))
	}
	user, pass := u.User.Username(), ""
	if p, ok := u.User.Password(); ok {
		pass = p
	}
	if pass == "" {
		pass = c.Password
	}
	// A unix:// URL names its socket in the path and has no host to check.
	var hosts []string
	if u.Scheme != "unix" {
		hosts = strings.Split(u.Host, ",")
	}
	for i, h := range hosts {
		if h == "" {
			return nil, "", fmt.Errorf("bad Redis URL %s: empty host", redacted(u))
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			hosts[i] = net.JoinHostPort(h, defaultPort(u.Scheme))
		}
	}
	var tlsConfig *tls.Config
	if strings.HasPrefix(u.Scheme, "rediss") {
		host, _, _ := net.SplitHostPort(hosts[0])
		tlsConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if c.CAFile != "" {
			pool, err := loadCA(c.CAFile)
			if err != nil {
				return nil, "", err
			}
			tlsConfig.RootCAs = pool
		}
	} else if c.CAFile != "" {
		return nil, "", fmt.Errorf("--redis-ca is for rediss:// URLs, not %s://", u.Scheme)
	}
	path := strings.Trim(u.Path, "/")

	switch u.Scheme {
	case "redis", "rediss", "unix":
		opt, err := redis.ParseURL(c.URL)
		if err != nil {
			return nil, "", fmt.Errorf("bad Redis URL %s: %w", redacted(u), redactErr(err, c.URL))
		}
		if opt.Password == "" {
			opt.Password = c.Password
		}
		if opt.TLSConfig != nil {
			opt.TLSConfig = tlsConfig
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = timeout, timeout, timeout, timeout
		opt.MaxRetries, opt.DialerRetries = 1, 1
		opt.DisableIdentity = true
		opt.MaintNotificationsConfig = noMaintNotifications()
		return redis.NewClient(opt), ModeStandalone, nil

	case "redis-sentinel", "rediss-sentinel":
		master, dbText, _ := strings.Cut(path, "/")
		if master == "" {
			return nil, "", fmt.Errorf("bad Redis URL %s: a sentinel URL names the master: redis-sentinel://host:26379/<master>[/db]", redacted(u))
		}
		db, err := parseDB(dbText)
		if err != nil {
			return nil, "", fmt.Errorf("bad Redis URL %s: %w", redacted(u), err)
		}
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: master, SentinelAddrs: hosts, SentinelPassword: c.SentinelPassword,
			Username: user, Password: pass, DB: db, TLSConfig: tlsConfig,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, PoolTimeout: timeout,
			MaxRetries: 1, DialerRetries: 1, DisableIdentity: true,
		}), ModeSentinel, nil

	case "redis-cluster", "rediss-cluster":
		if path != "" && path != "0" {
			return nil, "", fmt.Errorf("bad Redis URL %s: a Redis Cluster has only database 0", redacted(u))
		}
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: hosts, Username: user, Password: pass, TLSConfig: tlsConfig,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, PoolTimeout: timeout,
			MaxRetries: 1, DialerRetries: 1, MaxRedirects: 3, DisableIdentity: true,
			MaintNotificationsConfig: noMaintNotifications(),
		}), ModeCluster, nil
	}
	return nil, "", fmt.Errorf("bad Redis URL %s: unknown scheme %q (use redis, rediss, unix, redis-sentinel or redis-cluster)", redacted(u), u.Scheme)
}

// noMaintNotifications keeps go-redis from asking for Redis Cloud's maintenance pushes
// on every new connection (its FailoverClient asks for none): a server without them
// answers with an error, which its error statistics count, one more quotatop start or
// reconnect for a Redis monitor to alert on, and a round trip.
func noMaintNotifications() *maintnotifications.Config {
	return &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
}

func loadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

func defaultPort(scheme string) string {
	if strings.HasSuffix(scheme, "-sentinel") {
		return "26379"
	}
	return "6379"
}

func parseDB(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	db, err := strconv.Atoi(s)
	if err != nil || db < 0 {
		return 0, fmt.Errorf("database %q is not a number", s)
	}
	return db, nil
}

// redactErr keeps a password in a malformed URL out of error messages.
func redactErr(err error, raw string) error {
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
		// A query's values, as go-redis quotes them ("v") and as the URL spells them
		// (key=value); bare only when long enough not to mask every "1" in the message.
		for k, vs := range u.Query() {
			for _, v := range vs {
				if v == "" {
					continue
				}
				msg = strings.ReplaceAll(msg, strconv.Quote(v), `"xxxxx"`)
				msg = strings.ReplaceAll(msg, k+"="+v, k+"=xxxxx")
				if len(v) >= 4 {
					msg = strings.ReplaceAll(msg, v, "xxxxx")
				}
			}
		}
	} else if at := strings.LastIndex(raw, "@"); at > 0 {
		msg = strings.ReplaceAll(msg, raw[:at], "xxxxx")
	}
	return fmt.Errorf("%s", msg)
}

// Redacted returns the URL with any password masked, for display.
func Redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return redacted(u)
}

// redacted masks a URL's password and its query's values (go-redis reads none that
// should be shown, and "?password=..." must not be echoed back). A unix:// URL's db
// number stays: the query is the only place such a URL names its database, and masked,
// two databases behind one socket would look alike (and share a history file).
func redacted(u *url.URL) string {
	if u.RawQuery != "" {
		c := *u
		q := c.Query()
		for k, vs := range q {
			if u.Scheme == "unix" && k == "db" && len(vs) == 1 && vs[0] != "" {
				if _, err := parseDB(vs[0]); err == nil {
					continue
				}
			}
			q[k] = []string{"xxxxx"}
		}
		c.RawQuery = q.Encode()
		return c.Redacted()
	}
	return u.Redacted()
}
