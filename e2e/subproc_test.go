package e2e

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// subproc is a child process (bin/tabswarm, mostly) whose stdout lines a
// test waits for.
type subproc struct {
	name   string
	cmd    *exec.Cmd
	lines  chan string
	exited chan struct{} // closed once the process has exited
	tail   *tailBuffer   // stderr
	once   sync.Once
}

// startSubproc starts cmd, whose Stdout and Stderr must be unset; log, if
// not nil, gets its stderr too. It is stopped in tb's cleanup if not before.
func startSubproc(tb testing.TB, name string, cmd *exec.Cmd, log io.Writer) *subproc {
	tb.Helper()
	p := &subproc{name: name, cmd: cmd, lines: make(chan string, 1024), exited: make(chan struct{}), tail: &tailBuffer{max: 16 << 10}}
	cmd.Stderr = p.tail
	if log != nil {
		cmd.Stderr = io.MultiWriter(p.tail, log)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		io.Copy(io.Discard, out)
		close(p.lines)
		cmd.Wait()
		close(p.exited)
	}()
	tb.Cleanup(p.stop)
	return p
}

// alive reports whether the process is still running.
func (p *subproc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// waitLine waits for a stdout line containing substr and returns it.
func (p *subproc) waitLine(tb testing.TB, substr string, timeout time.Duration) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				tb.Fatalf("%s exited before printing %q; stderr:\n%s", p.name, substr, p.tail.String())
			}
			if strings.Contains(l, substr) {
				return l
			}
		case <-ctx.Done():
			tb.Fatalf("%s printed no %q within %v; stderr:\n%s", p.name, substr, timeout, p.tail.String())
		}
	}
}

// waitStderr waits until the tail of stderr contains substr.
func (p *subproc) waitStderr(tb testing.TB, substr string, timeout time.Duration) {
	tb.Helper()
	err := poll(context.Background(), timeout, 50*time.Millisecond, func(context.Context) (bool, error) {
		return strings.Contains(p.tail.String(), substr), nil
	})
	if err != nil {
		tb.Fatalf("%s wrote no %q to stderr within %v:\n%s", p.name, substr, timeout, p.tail.String())
	}
}

// kill sends the process SIGKILL and waits until it is gone.
func (p *subproc) kill(tb testing.TB) {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatalf("kill %s: %v", p.name, err)
	}
	<-p.exited
}

// stop interrupts the process (it saves its state, or shuts down
// gracefully, and exits) and kills it after 5 seconds. It is idempotent.
func (p *subproc) stop() {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
}
