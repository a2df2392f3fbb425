package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// envPrefix starts the environment variable beside every flag: --max-peers
// is TABSWARM_MAX_PEERS.
const envPrefix = "TABSWARM_"

// envName returns the environment variable for a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// listFlag is a repeatable flag. With split, each value may also hold
// several, separated by commas. Values from the environment (always comma
// separated) give way to any on the command line.
type listFlag struct {
	vals    []string
	split   bool
	fromEnv bool
}

func (l *listFlag) String() string { return strings.Join(l.vals, ",") }

func (l *listFlag) Set(v string) error {
	if l.fromEnv {
		l.vals, l.fromEnv = nil, false
	}
	if !l.split {
		l.vals = append(l.vals, v)
		return nil
	}
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			l.vals = append(l.vals, part)
		}
	}
	return nil
}

// applyEnv sets every flag of fl whose environment variable is set and not
// empty, so that the command line, parsed next, overrides it. getenv is
// os.Getenv in main.
func applyEnv(fl *flag.FlagSet, getenv func(string) string) error {
	var err error
	fl.VisitAll(func(f *flag.Flag) {
		v := getenv(envName(f.Name))
		if v == "" || err != nil {
			return
		}
		if l, ok := f.Value.(*listFlag); ok {
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					l.Set(part)
				}
			}
			l.fromEnv = true
			return
		}
		if serr := fl.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, serr)
		}
	})
	return err
}

// printFlags writes fl's flags, each with its environment variable and
// default.
func printFlags(w io.Writer, fl *flag.FlagSet) {
	fl.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, strings.ReplaceAll(usage, "\n", "\n      "))
		def := ""
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "      env %s%s\n", envName(f.Name), def)
	})
}

// errHelp means -h asked for the help, which has been printed.
var errHelp = errors.New("help")

// getenv is os.Getenv; tests replace it.
var getenv = os.Getenv
