// Command nsvirtd is nsvirt's daemon: a libvirt-compatible LXC driver that
// serves the libvirt remote protocol on a unix socket, so that virsh,
// python-libvirt, virt-install and other libvirt clients manage containers
// through it unchanged.
//
// The same binary is re-executed as the per-container monitor and as the
// container's init helper; those entry points are chosen by the first
// argument before any daemon machinery starts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/rpc"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// options are the daemon's command-line flags.
type options struct {
	socket            string
	configDir         string
	stateDir          string
	verbose           bool
	keepaliveInterval time.Duration
	keepaliveCount    int
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("nsvirtd", flag.ContinueOnError)
	fs.StringVar(&o.socket, "socket", "/run/libvirt/virtlxcd-sock",
		"read-write socket; the read-only socket is this path with -ro appended")
	fs.StringVar(&o.configDir, "config-dir", "/etc/libvirt/lxc", "directory of persistent domain definitions")
	fs.StringVar(&o.stateDir, "state-dir", "/run/libvirt/lxc", "directory of live domain state")
	fs.BoolVar(&o.verbose, "verbose", false, "log debug messages to stderr")
	fs.DurationVar(&o.keepaliveInterval, "keepalive-interval", 5*time.Second,
		"silence after which a client that asked for keepalive is pinged")
	fs.IntVar(&o.keepaliveCount, "keepalive-count", 5, "unanswered pings after which a client is dropped")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}

func run(args []string) int {
	o, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "nsvirtd:", err)
		return 2
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(o, log); err != nil {
		log.Error("nsvirtd failed", "err", err)
		return 1
	}
	return 0
}

// serve runs the daemon until SIGTERM or SIGINT.
func serve(o options, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	signal.Ignore(syscall.SIGPIPE, syscall.SIGHUP)

	socks, err := listen(o.socket)
	if err != nil {
		return err
	}
	defer socks.Close()
	drv, err := driver.New(driver.Config{ConfigDir: o.configDir, StateDir: o.stateDir, Log: log})
	if err != nil {
		return err
	}
	defer drv.Close()
	srv := rpc.New(drv, rpc.Options{
		KeepaliveInterval: o.keepaliveInterval,
		KeepaliveCount:    o.keepaliveCount,
		Log:               log,
	})
	go srv.Serve(socks.rw, false)
	go srv.Serve(socks.ro, true)
	log.Info("nsvirtd ready", "socket", o.socket, "config-dir", o.configDir, "state-dir", o.stateDir)
	<-ctx.Done()
	log.Info("shutting down")
	return srv.Close()
}
