// Command tabswarm is tabswarm's one binary. Its subcommands:
//
//	tabswarm serve [--addr :8080]   run the tracker and serve the web app
//
// (seed and get, native peers, will join serve.)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errUsage means the command line was wrong; the usage has been printed.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "tabswarm:", err)
		os.Exit(1)
	}
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
  serve    run the tracker and serve the web app (tabswarm serve -h for flags)

Run "tabswarm <command> -h" for a command's flags.
`)
}
