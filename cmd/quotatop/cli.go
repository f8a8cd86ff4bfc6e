package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	cfgfile "github.com/quotatop/quotatop/config"
	"github.com/quotatop/quotatop/report"
	"github.com/quotatop/quotatop/source"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

const usageHead = `quotatop watches the 5h/7d quotas of the accounts an API gateway (sub2api) pools.

Usage:
  quotatop [flags]                  live monitor
  quotatop --once [flags]           print the fleet once and exit (table, json or csv)
  quotatop --demo                   try it on the embedded demo gateway
  quotatop watch [flags]            no screen: events, notifications and metrics (systemd)
  quotatop config check [PATH]      validate a config file, naming the wrong line
  quotatop completion SHELL         completion script (bash, zsh, fish, powershell)

The Redis password may come from QUOTATOP_REDIS_PASSWORD instead of the URL.
Actions (probe, unpause) need --api and an admin credential from QUOTATOP_ADMIN_KEY,
QUOTATOP_ADMIN_TOKEN or --admin-key-file; never on the command line.
Precedence: flags, then environment, then the config file's context, then defaults.
Exit codes: 0 ok, 1 bad usage or configuration, 2 storage unreachable or unreadable,
3 --fail-on matched.
`

// newRoot builds the command line: the monitor itself and its helper commands. args is
// the command line as parsed (the live monitor re-resolves it for another context); code
// receives the monitor's exit code; errors returned by Execute are usage errors.
func newRoot(args *[]string, stdout, stderr io.Writer, getenv func(string) string, code *int) *cobra.Command {
	v := &flagValues{}
	root := &cobra.Command{
		Use:   "quotatop",
		Short: "watch the 5h/7d quotas of the accounts an API gateway pools",
		Long:  strings.TrimSpace(usageHead),
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unexpected argument %q (see --help)", args[0])
			}
			return nil
		},
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if v.cfg.version {
				fmt.Fprintln(stdout, versionLine())
				return nil
			}
			cfg, err := resolve(cmd.Flags(), v, getenv, "")
			if err != nil {
				return err
			}
			*code = start(cfg, *args, stdout, stderr, getenv)
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	var groups []*pflag.FlagSet
	for _, g := range flagGroups {
		fs := pflag.NewFlagSet(g.title, pflag.ContinueOnError)
		fs.SortFlags = false
		g.add(fs, v)
		groups = append(groups, fs)
		root.Flags().AddFlagSet(fs)
	}
	root.Flags().SortFlags = false
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError(err) })
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, a []string) {
		if c != root {
			defaultHelp(c, a)
			return
		}
		fmt.Fprint(c.OutOrStdout(), groupedHelp(groups))
	})
	registerCompletions(root, getenv)
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(completionCommand(root, stdout), configCommand(stdout, getenv), manCommand(root, stdout))
	return root
}

// groupedHelp is the root's --help: flags by purpose, GNU style.
func groupedHelp(groups []*pflag.FlagSet) string {
	var b strings.Builder
	b.WriteString(usageHead)
	for i, fs := range groups {
		fmt.Fprintf(&b, "\n%s:\n%s", flagGroups[i].title, fs.FlagUsagesWrapped(100))
	}
	return b.String()
}

// flagError turns pflag's messages into one sentence that points at --help.
func flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: "); ok {
		msg = "unknown flag " + name
	} else if rest, ok := strings.CutPrefix(msg, "unknown shorthand flag: "); ok {
		_, name, _ := strings.Cut(rest, " in ")
		msg = "unknown flag " + name
	}
	return fmt.Errorf("%s (see --help)", msg)
}

// normalizeArgs accepts the single-dash long flags (-once, -redis=URL) that Go's flag
// package took before quotatop moved to GNU style, so existing scripts keep working.
func normalizeArgs(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && (fs.Lookup(name) != nil || name == "help") {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// completionCommand prints a shell's completion script. It replaces cobra's default so an
// unknown shell is an error, not a help page.
func completionCommand(root *cobra.Command, stdout io.Writer) *cobra.Command {
	gen := map[string]func() error{
		"bash":       func() error { return root.GenBashCompletionV2(stdout, true) },
		"zsh":        func() error { return root.GenZshCompletion(stdout) },
		"fish":       func() error { return root.GenFishCompletion(stdout, true) },
		"powershell": func() error { return root.GenPowerShellCompletionWithDesc(stdout) },
	}
	return &cobra.Command{
		Use:       "completion bash|zsh|fish|powershell",
		Short:     "Print the shell completion script",
		Long:      "Print the shell completion script. Packages install it; by hand:\n  quotatop completion bash > ~/.local/share/bash-completion/completions/quotatop\n  quotatop completion zsh > \"${fpath[1]}/_quotatop\"\n  quotatop completion fish > ~/.config/fish/completions/quotatop.fish",
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || gen[args[0]] == nil {
				return fmt.Errorf("completion needs one shell: bash, zsh, fish or powershell (got %q)", strings.Join(args, " "))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error { return gen[args[0]]() },
	}
}

// registerCompletions offers the values a flag takes to shell completion, the config
// file's context names included.
func registerCompletions(root *cobra.Command, getenv func(string) string) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
	}
	root.RegisterFlagCompletionFunc("output", fixed(report.Formats...))
	root.RegisterFlagCompletionFunc("source", fixed("redis", "api"))
	root.RegisterFlagCompletionFunc("missing-timestamp", fixed("fresh", "stale"))
	root.RegisterFlagCompletionFunc("fail-on", fixed(strings.Split(stateList(), ",")...))
	root.RegisterFlagCompletionFunc("context", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		path, _ := cmd.Flags().GetString("config")
		file, err := loadConfigFile(cmd.Flags(), path, getenv)
		if err != nil || file == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, c := range file.Contexts {
			names = append(names, c.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
}

// configCommand is `quotatop config check [PATH]`.
func configCommand(stdout io.Writer, getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with the config file", Args: cobra.ArbitraryArgs,
		// A mistyped subcommand printed help and exited 0, which a script reads as "valid".
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown config command %q: use config check [PATH]", args[0])
			}
			return errors.New("config needs a command: config check [PATH]")
		}}
	check := &cobra.Command{
		Use:   "check [PATH]",
		Short: "Validate a config file (default $QUOTATOP_CONFIG, else $XDG_CONFIG_HOME/quotatop/config.yaml), naming the wrong line",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			path := firstNonEmpty(getenv("QUOTATOP_CONFIG"), cfgfile.DefaultPath(getenv))
			if len(args) == 1 {
				path = args[0]
			}
			if path == "" {
				return errors.New("no config file: give its path")
			}
			f, err := cfgfile.Load(path, getenv)
			if err != nil {
				return err
			}
			// The storage URL is checked by the code that will open it (it does not
			// connect), so check and run never disagree.
			for _, c := range f.Contexts {
				if c.Redis == "" {
					continue
				}
				r, err := source.OpenRedis(source.Conn{URL: c.Redis, CAFile: c.RedisCA, Timeout: time.Second}, source.DefaultPrefix)
				if err != nil {
					return &cfgfile.Error{Path: path, Line: c.Lines["redis"], Msg: fmt.Sprintf("context %s: %v", c.Name, err)}
				}
				r.Close()
			}
			current := "none"
			if c, err := f.Context(""); err == nil {
				current = c.Name
			}
			fmt.Fprintf(stdout, "%s: ok, %d context(s), current %s\n", path, len(f.Contexts), current)
			for _, c := range f.Contexts {
				if note := credentialNote(c, getenv); note != "" {
					fmt.Fprintf(stdout, "note: line %d: context %s: %s\n", c.Line, c.Name, note)
				}
			}
			return nil
		},
	}
	cmd.AddCommand(check)
	return cmd
}

// credentialNote says when a context's credential source is missing on this machine:
// worth knowing, but not an error, as a shared file is checked where keys are absent.
func credentialNote(c cfgfile.Context, getenv func(string) string) string {
	switch {
	case c.AdminKeyEnv != "" && getenv(c.AdminKeyEnv) == "":
		return "$" + c.AdminKeyEnv + " is not set here"
	case c.AdminKeyFile != "":
		if _, err := os.Stat(c.AdminKeyFile); err != nil {
			return "admin key file " + c.AdminKeyFile + " is missing here"
		}
	}
	return ""
}

// manCommand writes the man page(s): to stdout, or every page into DIR. The date comes
// from $SOURCE_DATE_EPOCH, else the build date, so a release's pages are reproducible.
func manCommand(root *cobra.Command, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:    "man [DIR]",
		Short:  "Write the man pages",
		Hidden: true,
		Args:   cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			h := &doc.GenManHeader{Title: "QUOTATOP", Section: "1", Source: "quotatop " + versionName(), Manual: "quotatop manual"}
			if os.Getenv("SOURCE_DATE_EPOCH") == "" {
				if t, err := time.Parse(time.RFC3339, date); err == nil {
					h.Date = &t
				}
			}
			if len(args) == 0 {
				return doc.GenMan(root, h, stdout)
			}
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			return doc.GenManTree(root, h, args[0])
		},
	}
}
