package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"

	"tabswarm/tracker"
)

// profiles names the files the tracker child writes its profiles to; empty
// means none.
type profiles struct{ heap, cpu string }

// serveChild runs the tracker under test in this process, on 127.0.0.1:0,
// with its caps lifted for n clients; it prints "addr HOST:PORT" and serves
// until stdin closes (the parent exits or is done). With prof.heap set it
// first writes a heap profile there, taken while every client is still
// connected; with prof.cpu set it profiles the CPU from start to end. Its
// memory is then the tracker's alone, apart from the Go runtime's baseline.
func serveChild(n int, prof profiles) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	stop, err := startCPUProfile(prof.cpu)
	if err != nil {
		return err
	}
	defer stop()
	tr := tracker.New(tracker.Options{
		MaxPeers:     n + 64,
		MessageRate:  1e6,
		MessageBurst: 1e6,
		// The per-address connection cap stays at its default: clients
		// spread over many 127.x.y.z source addresses instead.
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		if prof.heap != "" {
			if err := writeHeapProfile(prof.heap); err != nil {
				fmt.Fprintln(os.Stderr, "loadgen: heap profile:", err)
			}
		}
		cancel()
	}()
	fmt.Printf("addr %s\n", ln.Addr())
	return tr.Serve(ctx, ln)
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startCPUProfile profiles this process's CPU into path, if not empty,
// until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
