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
	"math"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsvirt/nsvirt/driver"
	"github.com/nsvirt/nsvirt/driver/container"
	"github.com/nsvirt/nsvirt/driver/monitor"
	"github.com/nsvirt/nsvirt/rpc"
)

// init runs before any other goroutine exists. The container's init
// helper changes per-thread state (namespaces, capabilities) on the thread
// that later execs the container's init, so its main goroutine must never
// move to another thread.
func init() {
	if len(os.Args) > 1 && os.Args[1] == container.InitCommand {
		runtime.GOMAXPROCS(1)
		runtime.LockOSThread()
	}
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case container.InitCommand:
			container.Main()
		case monitor.Command:
			monitor.Main()
		}
	}
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
	defaultPidsMax    int64
	shutdownTimeout   time.Duration
	networkDir        string
	defaultSubnet     netip.Prefix
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
	fs.Int64Var(&o.defaultPidsMax, "default-pids-max", 16384,
		"task limit of a container whose definition sets none (0: no limit)")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second,
		"time an init with no known shutdown convention gets after SIGTERM before SIGKILL")
	fs.StringVar(&o.networkDir, "network-dir", "",
		`directory of persistent network definitions (default "network" beside --config-dir)`)
	fs.Func("default-network-subnet", "IPv4 subnet (/8 to /30) of the network \"default\" defined at first start-up (default 192.168.122.0/24)",
		func(v string) (err error) { o.defaultSubnet, err = parseDefaultSubnet(v); return err })
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}

// parseDefaultSubnet reads --default-network-subnet: an IPv4 network
// from /8 to /30, given by its network address.
func parseDefaultSubnet(v string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(v)
	switch {
	case err != nil:
		return p, err
	case !p.Addr().Is4() || p.Bits() < 8 || p.Bits() > 30:
		return p, fmt.Errorf("%s is not an IPv4 subnet from /8 to /30", v)
	case p.Masked() != p:
		return p, fmt.Errorf("%s has host bits set (did you mean %s?)", v, p.Masked())
	}
	return p, nil
}

func run(args []string) int {
	// Descriptors inherited from whoever started the daemon must not leak
	// into monitors and containers.
	_ = unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
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
	drv, err := driver.New(driver.Config{
		ConfigDir: o.configDir, StateDir: o.stateDir, Log: log,
		DefaultPidsMax: o.defaultPidsMax, ShutdownTimeout: o.shutdownTimeout,
		NetworkDir: o.networkDir, DefaultNetworkSubnet: o.defaultSubnet,
	})
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
