package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"tabswarm/tracker"
)

// serve runs the tracker until ctx is done.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	addr := fl.String("addr", ":8080", "`address` to listen on (host:port; port 0 picks a free one)")
	level := fl.String("log-level", "info", "log `level`: debug (logs every request), info, warn or error")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: tabswarm serve [flags]\n\nRuns the tracker and serves the web app.\n\nflags:")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "tabswarm serve: unexpected argument %q\n", fl.Arg(0))
		fl.Usage()
		return errUsage
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "tabswarm serve: bad --log-level %q\n", *level)
		return errUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	urls, err := openURLs(ln.Addr())
	if err != nil {
		log.Warn("listing network interfaces", "err", err)
	}
	fmt.Fprintln(stdout, "tabswarm is serving; open it in a browser on this network:")
	for _, u := range urls {
		fmt.Fprintln(stdout, "  "+u)
	}
	return tracker.New(tracker.Options{Logger: log}).Serve(ctx, ln)
}
