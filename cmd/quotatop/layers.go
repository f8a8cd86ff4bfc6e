package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	cfgfile "github.com/quotatop/quotatop/config"
	"github.com/quotatop/quotatop/source"
	"github.com/spf13/pflag"
)

// envFor lists the environment variables that stand in for a flag; the first set wins.
var envFor = map[string][]string{
	"redis":   {"QUOTATOP_REDIS", "REDIS_URL"},
	"api":     {"QUOTATOP_API"},
	"config":  {"QUOTATOP_CONFIG"},
	"context": {"QUOTATOP_CONTEXT"},
}

// identityFlags say which gateway is watched. When the live monitor switches context they
// come from that context alone: a --redis or $QUOTATOP_API meant for the first gateway
// must not follow the operator to the next one.
var identityFlags = map[string]bool{"redis": true, "redis-ca": true, "prefix": true, "api": true,
	"api-ca": true, "admin-key-file": true, "demo": true, "source": true}

// fileSettings are a context's values, as the flags they stand for would be given.
func fileSettings(c cfgfile.Context) map[string]string {
	m := map[string]string{}
	for flag, v := range map[string]string{"redis": c.Redis, "prefix": c.Prefix, "api": c.API, "source": c.Source,
		"redis-ca": c.RedisCA, "api-ca": c.APICA} {
		if v != "" {
			m[flag] = v
		}
	}
	for flag, p := range map[string]*float64{"default-threshold-5h": c.Threshold5h,
		"default-threshold-7d": c.Threshold7d, "warn": c.Warn} {
		if p != nil {
			m[flag] = strconv.FormatFloat(*p, 'g', -1, 64)
		}
	}
	if c.Interval > 0 {
		m["interval"] = c.Interval.String()
	}
	if c.ReadOnly != nil {
		m["read-only"] = strconv.FormatBool(*c.ReadOnly)
	}
	return m
}

// resolve applies the environment and the config file beneath the flags that were given:
// flags over environment over file over defaults. switchTo names the context the live
// monitor switches to ("" at start).
func resolve(fs *pflag.FlagSet, v *flagValues, getenv func(string) string, switchTo string) (config, error) {
	file, err := loadConfigFile(fs, v.cfg.configPath, getenv)
	if err != nil {
		return config{}, err
	}
	name := switchTo
	if name == "" {
		name = flagOrEnv(fs, "context", v.cfg.contextName, getenv)
	}
	if v.cfg.demo && !fs.Changed("context") {
		file, name = nil, "" // the demo is its own gateway: no context's name or settings apply
	}
	var ctx cfgfile.Context
	switch {
	case file == nil && name != "":
		return config{}, fmt.Errorf("--context %s needs a config file, and there is none at %s", name, firstNonEmpty(cfgfile.DefaultPath(getenv), "~/.config/quotatop/config.yaml"))
	case file != nil && (name != "" || len(file.Contexts) > 0):
		if ctx, err = file.Context(name); err != nil {
			return config{}, err
		}
	}
	switching := switchTo != ""
	values := fileSettings(ctx)
	// Setting a flag from a lower layer marks it changed: remember what the user gave.
	given := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { given[f.Name] = true })
	var setErr error
	fs.VisitAll(func(f *pflag.Flag) {
		val, ok := "", false
		switch {
		case switching && identityFlags[f.Name]:
			val, ok = values[f.Name]
			if !ok {
				val, ok = f.DefValue, true
			}
		case f.Changed:
		default:
			for _, env := range envFor[f.Name] {
				if val = getenv(env); val != "" {
					ok = true
					break
				}
			}
			if !ok {
				val, ok = values[f.Name]
			}
		}
		if ok {
			if err := fs.Set(f.Name, val); err != nil && setErr == nil {
				setErr = fmt.Errorf("--%s %q: %v", f.Name, val, err)
			}
		}
	})
	if setErr != nil {
		return config{}, setErr
	}

	// A credential stays with the gateway it belongs to: when the API URL comes from the
	// context, so does the key, and the general QUOTATOP_ADMIN_* variables are used only
	// if the context names no source of its own.
	v.cfg.adminKeyEnv, v.cfg.adminTokenEnv, v.cfg.redisPasswordEnv = "QUOTATOP_ADMIN_KEY", "QUOTATOP_ADMIN_TOKEN", "QUOTATOP_REDIS_PASSWORD"
	if ctx.API != "" && (switching || (!given["api"] && getenv("QUOTATOP_API") == "")) {
		if switching || !given["admin-key-file"] {
			v.cfg.adminKeyFile = ctx.AdminKeyFile
			if ctx.AdminKeyFile != "" {
				v.cfg.adminKeyFileFrom = "admin_key_file of context " + ctx.Name
			}
		}
		if ctx.AdminKeyEnv != "" {
			v.cfg.adminKeyEnv = ctx.AdminKeyEnv
		}
		if ctx.AdminKeyFile != "" || ctx.AdminKeyEnv != "" {
			v.cfg.adminTokenEnv = ""
		}
	}
	if ctx.Redis != "" && ctx.RedisPasswordEnv != "" && (switching || (!given["redis"] && getenv("QUOTATOP_REDIS") == "" && getenv("REDIS_URL") == "")) {
		v.cfg.redisPasswordEnv = ctx.RedisPasswordEnv
	}
	v.cfg.source, v.cfg.interval = sourceDefaults(v.cfg, given, values, getenv, switching)
	cfg, err := v.finish(getenv)
	if err != nil {
		return cfg, err
	}
	cfg.file, cfg.contextName, cfg.contextColor = file, ctx.Name, cfgfile.ColorCode(ctx.Color)
	if file != nil {
		cfg.configPath = file.Path
	}
	return cfg, nil
}

// sourceDefaults picks the admin API as the source when an API URL is given and no Redis
// URL is (by flag, environment or context), and gives it a 15 s interval unless one was
// asked for: every page is a database query on the gateway.
func sourceDefaults(c config, given map[string]bool, values map[string]string, getenv func(string) string, switching bool) (string, time.Duration) {
	src, interval := c.source, c.interval
	redisGiven := values["redis"] != ""
	if !switching {
		redisGiven = redisGiven || given["redis"] || getenv("QUOTATOP_REDIS") != "" || getenv("REDIS_URL") != ""
	}
	if src == "" && c.api != "" && !redisGiven && !c.demo {
		src = "api"
	}
	if src == "api" && !c.demo && !given["interval"] && values["interval"] == "" {
		interval = source.APIInterval
	}
	return src, interval
}

// loadConfigFile reads --config, else $QUOTATOP_CONFIG, else the default path if a file
// is there. Without any, everything works from flags and environment as before.
func loadConfigFile(fs *pflag.FlagSet, flagPath string, getenv func(string) string) (*cfgfile.File, error) {
	path := flagOrEnv(fs, "config", flagPath, getenv)
	if path == "" {
		path = cfgfile.DefaultPath(getenv)
		if _, err := os.Stat(path); path == "" || errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	return cfgfile.Load(path, getenv)
}

func flagOrEnv(fs *pflag.FlagSet, name, flagValue string, getenv func(string) string) string {
	if fs.Changed(name) {
		return flagValue
	}
	for _, env := range envFor[name] {
		if v := getenv(env); v != "" {
			return v
		}
	}
	return ""
}

// resolveContext resolves the command line again for another context of the config file,
// as the live monitor's switcher asks.
func resolveContext(args []string, getenv func(string) string, name string) (config, error) {
	v := &flagValues{}
	fs := pflag.NewFlagSet("quotatop", pflag.ContinueOnError)
	for _, g := range flagGroups {
		g.add(fs, v)
	}
	// watch parses its own command line here: the single-dash forms work as for the
	// monitor, --help is help (it started a watcher), and a stray word is an error.
	if err := fs.Parse(normalizeArgs(fs, args)); err != nil {
		return config{}, flagError(err)
	}
	if help, _ := fs.GetBool("help"); help {
		return config{}, pflag.ErrHelp
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	return resolve(fs, v, getenv, name)
}
