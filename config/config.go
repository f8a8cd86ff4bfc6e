// Package config reads quotatop's config file: named gateways ("contexts"), each with its
// storage, admin API, where its admin credential comes from, thresholds, interval,
// read-only and a header colour. Every error names the file and the line that is wrong.
//
// The file never holds a credential: a field that would (admin_key, password, token) is
// refused, and so is a Redis URL with a password in it, because the file is meant to be
// shared between operators.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// File is a parsed config file.
type File struct {
	Path string
	// Current is the context used when none is asked for; empty means the first one.
	Current  string
	Contexts []Context
}

// Context is one named gateway. Empty strings and nil pointers mean "not set here": the
// flags' defaults apply.
type Context struct {
	Name             string
	Redis            string
	Prefix           string
	API              string
	Source           string // "redis", "api" or "" (api when only api is given)
	AdminKeyFile     string // path, ~ expanded
	AdminKeyEnv      string // the name of an environment variable holding the key
	RedisPasswordEnv string // the name of an environment variable holding the Redis password
	RedisCA          string // PEM file of a private CA for rediss://, ~ expanded
	APICA            string // PEM file of a private CA for the admin API, ~ expanded
	Threshold5h      *float64
	Threshold7d      *float64
	Warn             *float64
	Interval         time.Duration
	ReadOnly         *bool
	Color            string
	// Line is where the context starts in the file and Lines where each field is, for
	// messages.
	Line  int
	Lines map[string]int
}

// DefaultPath is $XDG_CONFIG_HOME/quotatop/config.yaml, else ~/.config/quotatop/config.yaml;
// empty when neither can be found.
func DefaultPath(getenv func(string) string) string {
	if dir := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "quotatop", "config.yaml")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".config", "quotatop", "config.yaml")
	}
	return ""
}

// Load reads and validates the file at path.
func Load(path string, getenv func(string) string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config file %s does not exist", path)
		}
		return nil, fmt.Errorf("cannot read config file %s: %v", path, errors.Unwrap(err))
	}
	return Parse(path, data, getenv)
}

// Error is a problem at one line of a config file.
type Error struct {
	Path string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("%s line %d: %s", e.Path, e.Line, e.Msg)
}

// contextFields are the keys a context may have, in the order the README lists them.
var contextFields = []string{"name", "redis", "prefix", "api", "source", "admin_key_file", "admin_key_env",
	"redis_password_env", "redis_ca", "api_ca", "thresholds", "interval", "read_only", "color"}

// secretFields would put a credential in the file; each gets its own refusal.
var secretFields = map[string]bool{"admin_key": true, "key": true, "api_key": true, "token": true,
	"admin_token": true, "password": true, "redis_password": true, "secret": true}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Parse validates data read from path (used only in messages).
func Parse(path string, data []byte, getenv func(string) string) (*File, error) {
	fail := func(line int, format string, args ...any) error {
		return &Error{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &File{Path: path}, nil // an empty file configures nothing
		}
		return nil, syntaxError(path, err)
	}
	if len(doc.Content) == 0 {
		return &File{Path: path}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fail(root.Line, "the file must be a mapping with current and contexts")
	}
	f := &File{Path: path}
	currentLine := 0
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "current":
			if v.Kind != yaml.ScalarNode {
				return nil, fail(v.Line, "current must be a context name")
			}
			f.Current, currentLine = v.Value, v.Line
		case "contexts":
			v = deref(v)
			if v.Kind != yaml.SequenceNode {
				return nil, fail(v.Line, "contexts must be a list of contexts, each starting with \"- name:\"")
			}
			for _, item := range v.Content {
				c, err := parseContext(item, fail, getenv)
				if err != nil {
					return nil, err
				}
				for _, prev := range f.Contexts {
					if prev.Name == c.Name {
						return nil, fail(c.Line, "context %q is defined twice (first at line %d)", c.Name, prev.Line)
					}
				}
				f.Contexts = append(f.Contexts, c)
			}
		default:
			// x-... keys hold shared settings for anchors, as in docker compose files.
			if !strings.HasPrefix(k.Value, "x-") {
				return nil, fail(k.Line, "unknown field %q: the top level has current, contexts and x-... keys for shared settings", k.Value)
			}
		}
	}
	if f.Current != "" {
		if _, ok := f.find(f.Current); !ok {
			return nil, fail(currentLine, "current names context %q, which is not defined (%s)", f.Current, f.names())
		}
	}
	return f, nil
}

func parseContext(n *yaml.Node, fail func(int, string, ...any) error, getenv func(string) string) (Context, error) {
	c := Context{Line: n.Line}
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return c, fail(n.Line, "a context must be a mapping starting with \"name:\"")
	}
	str := func(v *yaml.Node, field string) (string, error) {
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			return "", fail(v.Line, "%s must be a string", field)
		}
		return v.Value, nil
	}
	lines := map[string]int{}
	c.Lines = lines
	pairs, err := mergedPairs(n, fail)
	if err != nil {
		return c, err
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		k, v := pairs[i], deref(pairs[i+1])
		field := k.Value
		if _, dup := lines[field]; dup {
			return c, fail(k.Line, "%s is given twice in this context (first at line %d)", field, lines[field])
		}
		lines[field] = k.Line
		var err error
		switch field {
		case "name":
			c.Name, err = str(v, field)
			if err == nil && (strings.TrimSpace(c.Name) == "" || strings.ContainsFunc(c.Name, isControl)) {
				err = fail(v.Line, "name must be non-empty printable text")
			}
		case "redis":
			if c.Redis, err = str(v, field); err == nil && urlHasPassword(c.Redis) {
				err = fail(v.Line, "the redis URL holds a password, which this file must not: remove it and name an environment variable in redis_password_env")
			}
		case "prefix":
			c.Prefix, err = str(v, field)
		case "api":
			if c.API, err = str(v, field); err == nil {
				if u, perr := url.Parse(c.API); perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					err = fail(v.Line, "api is not an http(s) URL such as https://gw.example.com")
				} else if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
					err = fail(v.Line, "the api URL carries a user, password, query or fragment, which this file must not: give the bare address and name the key in admin_key_env or admin_key_file")
				}
			}
		case "source":
			if c.Source, err = str(v, field); err == nil && c.Source != "redis" && c.Source != "api" {
				err = fail(v.Line, "source %q: use redis or api", c.Source)
			}
		case "admin_key_file":
			if c.AdminKeyFile, err = str(v, field); err == nil {
				c.AdminKeyFile = expandHome(c.AdminKeyFile, getenv)
			}
		case "redis_ca":
			if c.RedisCA, err = str(v, field); err == nil {
				c.RedisCA = expandHome(c.RedisCA, getenv)
			}
		case "api_ca":
			if c.APICA, err = str(v, field); err == nil {
				c.APICA = expandHome(c.APICA, getenv)
			}
		case "admin_key_env", "redis_password_env":
			var name string
			if name, err = str(v, field); err == nil && !envName.MatchString(name) {
				err = fail(v.Line, "%s must name an environment variable (letters, digits, _), such as PROD_ADMIN_KEY: this value looks like a credential itself, which the file must not hold", field)
			}
			if field == "admin_key_env" {
				c.AdminKeyEnv = name
			} else {
				c.RedisPasswordEnv = name
			}
		case "thresholds":
			err = parseThresholds(v, &c, fail)
		case "interval":
			var s string
			if s, err = str(v, field); err == nil {
				d, perr := time.ParseDuration(s)
				switch {
				case perr != nil:
					err = fail(v.Line, "interval %q is not a duration such as 2s or 15s", s)
				case d < 100*time.Millisecond:
					err = fail(v.Line, "interval %s is too short: use at least 100ms", s)
				}
				c.Interval = d
			}
		case "read_only":
			var b bool
			if v.Kind != yaml.ScalarNode || v.Decode(&b) != nil {
				err = fail(v.Line, "read_only must be true or false")
			}
			c.ReadOnly = &b
		case "color":
			if c.Color, err = str(v, field); err == nil && !validColor(c.Color) {
				err = fail(v.Line, "color %q: use a name (%s), a number 0-255 or #rrggbb", c.Color, strings.Join(colorNames, ", "))
			}
		default:
			if secretFields[field] {
				err = fail(k.Line, "%s is refused: the file must not hold a credential; name a file (admin_key_file) or an environment variable (admin_key_env, redis_password_env) instead", field)
			} else {
				err = fail(k.Line, "unknown field %q in a context (known: %s)", field, strings.Join(contextFields, ", "))
			}
		}
		if err != nil {
			return c, err
		}
	}
	if c.Name == "" {
		return c, fail(n.Line, "this context has no name")
	}
	if c.AdminKeyFile != "" && c.AdminKeyEnv != "" {
		return c, fail(lines["admin_key_env"], "context %q gives both admin_key_file and admin_key_env: keep one", c.Name)
	}
	if (c.AdminKeyFile != "" || c.AdminKeyEnv != "") && c.API == "" {
		return c, fail(n.Line, "context %q has an admin credential but no api URL to use it with", c.Name)
	}
	if c.Source == "api" && c.API == "" {
		return c, fail(lines["source"], "context %q reads from the admin API (source: api) but gives no api URL", c.Name)
	}
	return c, nil
}

func parseThresholds(n *yaml.Node, c *Context, fail func(int, string, ...any) error) error {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return fail(n.Line, "thresholds must be a mapping of 5h, 7d and warn, in percent")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		var target **float64
		switch k.Value {
		case "5h":
			target = &c.Threshold5h
		case "7d":
			target = &c.Threshold7d
		case "warn":
			target = &c.Warn
		default:
			return fail(k.Line, "unknown threshold %q (known: 5h, 7d, warn)", k.Value)
		}
		f, err := strconv.ParseFloat(v.Value, 64)
		if v.Kind != yaml.ScalarNode || err != nil || f < 0 || f > 100 || f != f {
			return fail(v.Line, "threshold %s %q: give a percent from 0 to 100", k.Value, v.Value)
		}
		*target = &f
	}
	return nil
}

// deref follows an alias (*name) to what its anchor (&name) marks, so a shared file can
// define common settings once.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// mergedPairs is a mapping's keys and values with YAML merge keys (<<: *common) expanded:
// the mapping's own fields win over merged ones.
func mergedPairs(n *yaml.Node, fail func(int, string, ...any) error) ([]*yaml.Node, error) {
	var own, merged []*yaml.Node
	has := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "<<" {
			own = append(own, n.Content[i], n.Content[i+1])
			has[n.Content[i].Value] = true
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "<<" {
			continue
		}
		src := deref(n.Content[i+1])
		if src.Kind != yaml.MappingNode {
			return nil, fail(n.Content[i].Line, "<< must merge a mapping (<<: *name)")
		}
		for j := 0; j+1 < len(src.Content); j += 2 {
			if !has[src.Content[j].Value] {
				merged = append(merged, src.Content[j], src.Content[j+1])
				has[src.Content[j].Value] = true
			}
		}
	}
	return append(own, merged...), nil
}

// Context returns the named context, or the current one (else the first) for "".
func (f *File) Context(name string) (Context, error) {
	if name == "" {
		name = f.Current
	}
	if name == "" {
		if len(f.Contexts) == 0 {
			return Context{}, &Error{Path: f.Path, Msg: "no contexts are defined"}
		}
		return f.Contexts[0], nil
	}
	c, ok := f.find(name)
	if !ok {
		return Context{}, &Error{Path: f.Path, Msg: fmt.Sprintf("no context named %q (%s)", name, f.names())}
	}
	return c, nil
}

func (f *File) find(name string) (Context, bool) {
	for _, c := range f.Contexts {
		if c.Name == name {
			return c, true
		}
	}
	return Context{}, false
}

func (f *File) names() string {
	if len(f.Contexts) == 0 {
		return "the file defines none"
	}
	names := make([]string, len(f.Contexts))
	for i, c := range f.Contexts {
		names[i] = c.Name
	}
	return "defined: " + strings.Join(names, ", ")
}

// syntaxError turns the YAML library's message ("yaml: line 3: ...") into one sentence
// that names the file.
func syntaxError(path string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if line, convErr := strconv.Atoi(num); convErr == nil {
				// The parser names the line where it noticed, which for an unclosed
				// bracket or a bad indent can be the start of the enclosing block.
				return &Error{Path: path, Line: line, Msg: "not valid YAML here or in the lines just after: " + text}
			}
		}
	}
	return &Error{Path: path, Msg: "not valid YAML: " + msg}
}

// urlHasPassword says whether a storage URL carries user:password@. Sentinel and cluster
// URLs list several hosts, which url.Parse rejects, so the userinfo is found by hand.
func urlHasPassword(u string) bool {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return false
	}
	authority, _, _ := strings.Cut(rest, "/")
	at := strings.LastIndex(authority, "@")
	return at >= 0 && strings.Contains(authority[:at], ":")
}

func expandHome(p string, getenv func(string) string) string {
	if home := getenv("HOME"); home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
		return filepath.Join(home, p[1:])
	}
	return p
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
