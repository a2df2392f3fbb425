// Command tabswarm is tabswarm's one binary. Its subcommands:
//
//	tabswarm serve [--addr :8080] [--share DIR]   run the tracker and serve the web app
//	tabswarm seed FILE... --tracker URL           share files from this machine
//	tabswarm get DIGEST|LINK|FILE.p2t [--tracker URL] [-o PATH] [--seed]
//
// seed and get are native peers in the same swarms as browser tabs. The
// exit status tells scripts what went wrong; see exitCode.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"tabswarm/swarm"
)

// errUsage means the command line was wrong; the usage has been printed.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, errUsage) {
		fmt.Fprintln(os.Stderr, "tabswarm:", err)
	}
	os.Exit(exitCode(err))
}

// exitCode is the exit status for run's result; usage lists them.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, swarm.ErrNoTracker):
		return 3
	case errors.Is(err, swarm.ErrNoPeers):
		return 4
	case errors.Is(err, swarm.ErrQuota):
		return 5
	case errors.Is(err, os.ErrPermission), errors.Is(err, syscall.EROFS):
		return 6
	case errors.Is(err, swarm.ErrLyingPeer):
		return 7
	case errors.Is(err, errInterrupted):
		return 130
	}
	return 1
}

// run runs the subcommand args name until it finishes or ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "seed":
		return seed(ctx, args[1:], stdout, stderr)
	case "get":
		return get(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return nil
	default:
		fmt.Fprintf(stderr, "tabswarm: unknown command %q\n\n", args[0])
		usage(stderr)
		return errUsage
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: tabswarm <command> [flags]

commands:
  serve    run the tracker and serve the web app; --share DIR also seeds DIR's files
  seed     share files from this machine:  tabswarm seed FILE... --tracker URL
  get      download a file:  tabswarm get DIGEST|LINK|FILE.p2t [--tracker URL] [-o PATH] [--seed]

Run "tabswarm <command> -h" for a command's flags.

exit status:
  0    success
  1    any other error
  2    bad command line
  3    tracker unreachable
  4    unknown digest: no peer has the file
  5    disk full
  6    permission denied (or a read-only file system)
  7    every peer that had the file sent corrupt data, and no honest one
       came within a minute
  130  interrupted (get resumes where it stopped when run again)
`)
}
