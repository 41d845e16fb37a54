// Package driver is nsvirt's LXC driver: the domain registry and its
// persistent store, the container lifecycle, resource control, networks and
// the events they produce. It offers libvirt's semantics through plain Go
// methods and knows nothing of the RPC wire; the rpc package adapts it.
//
// Error values carry a Kind (errors.go) that the RPC layer maps to libvirt
// error numbers. Events are delivered to subscribers (events.go) in the
// order of the transitions that caused them.
package driver

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsvirt/nsvirt/cgroups"
	"github.com/nsvirt/nsvirt/driver/host"
	"github.com/nsvirt/nsvirt/driver/monitor"
	"github.com/nsvirt/nsvirt/xmlconf"
)

// LibVersion is the libvirt API level nsvirt emulates (9.0.0), reported by
// virConnectGetLibVersion.
const LibVersion = 9000000

// Config holds the driver's directories and defaults.
type Config struct {
	// ConfigDir holds persistent definitions (NAME.xml) and the autostart
	// directory, as /etc/libvirt/lxc does.
	ConfigDir string
	// StateDir holds live state (NAME.xml in <domstatus> form) and the
	// monitor sockets, as /run/libvirt/lxc does.
	StateDir string
	// Emulator is the path advertised as the guests' emulator and filled
	// into definitions that have none. Defaults to this executable.
	Emulator string
	// DefaultPidsMax is the task limit of a container whose definition
	// sets none (0: no limit).
	DefaultPidsMax int64
	// ShutdownTimeout is how long an init with no known shutdown
	// convention gets after SIGTERM before it is killed (default 10 s).
	ShutdownTimeout time.Duration
	// NetworkDir holds persistent network definitions (NAME.xml) and
	// their autostart directory. Defaults to "network" beside ConfigDir.
	NetworkDir string
	// DefaultNetworkSubnet is the IPv4 subnet of the network "default"
	// defined when NetworkDir is first created (default
	// 192.168.122.0/24).
	DefaultNetworkSubnet netip.Prefix
	// Log receives the driver's structured log. Defaults to discarding.
	Log *slog.Logger
}

// Driver is the LXC driver. Its methods are safe for concurrent use.
type Driver struct {
	cfg    Config
	log    *slog.Logger
	host   *host.Host
	exe    string          // this binary, re-executed as monitor and init helper
	layout *cgroups.Layout // the host's cgroup file systems
	lock   *os.File        // flock on StateDir/driver.pid
	events eventBus
	doms   registry
	store  store
	// defineMu serialises the claiming of names and UUIDs by defines.
	defineMu sync.Mutex
	// nets holds the virtual networks (networks.go).
	nets networks
	// spare holds a monitor started ahead of the next container start.
	spare chan *monitor.Spare
	// autostarted is closed when the start-up autostart of domains, which
	// runs in the background, has finished; Close waits for it.
	autostarted chan struct{}
}

// New opens the driver: it creates its directories, takes the state
// directory's lock (refusing to run beside another daemon on the same
// state) and loads what it finds there.
func New(cfg Config) (*Driver, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if !cfg.DefaultNetworkSubnet.IsValid() {
		cfg.DefaultNetworkSubnet = defaultNetworkSubnet
	}
	if cfg.Emulator == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("locate own executable: %w", err)
		}
		cfg.Emulator = exe
	}
	for _, dir := range []string{cfg.ConfigDir, cfg.StateDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create directory %s: %w", dir, err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("locate own executable: %w", err)
	}
	layout, err := cgroups.Detect()
	if err != nil {
		return nil, err
	}
	cfg.Log.Info("cgroup layout", "layout", layout.Describe())
	d := &Driver{
		cfg: cfg, log: cfg.Log, host: host.New(), store: store{dir: cfg.ConfigDir}, exe: exe, layout: layout,
		spare: make(chan *monitor.Spare, 1), autostarted: make(chan struct{}),
	}
	d.doms.init()
	d.nets.init(cfg)
	lock, err := lockPIDFile(filepath.Join(cfg.StateDir, "driver.pid"))
	if err != nil {
		return nil, err
	}
	d.lock = lock
	d.loadDefinitions()
	d.openNetworks(cfg.DefaultNetworkSubnet)
	d.reconnect()
	d.autostartNetworks()
	go func() {
		defer close(d.autostarted)
		d.autostart()
	}()
	return d, nil
}

// loadDefinitions registers every persistent definition found on disk.
func (d *Driver) loadDefinitions() {
	for _, sd := range d.loadConfigs() {
		name, uuid := sd.def.Def.Name, uuidOf(sd.def)
		if d.doms.byUUIDGet(uuid) != nil {
			d.log.Error("skipping definition with a duplicate UUID", "domain", name, "uuid", uuid)
			continue
		}
		dom := newDomain(name, uuid)
		dom.persistent, dom.autostart = sd.def, sd.autostart
		d.doms.add(dom)
	}
	d.log.Info("loaded domain definitions", "dir", d.cfg.ConfigDir, "count", len(d.doms.all()))
}

// lockPIDFile takes an exclusive lock on path and writes our PID into it,
// as libvirt's virPidFileAcquire does for driver.pid.
func lockPIDFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("state directory %s is in use by another daemon (pid %s)",
				filepath.Dir(path), strings.TrimSpace(string(b)))
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// Close releases the driver once the start-up autostart has finished.
// Running containers keep running; a new driver on the same directories
// finds them again.
func (d *Driver) Close() error {
	if d.lock == nil {
		return nil
	}
	<-d.autostarted
	select {
	case s := <-d.spare:
		s.Discard()
	default:
	}
	err := d.lock.Close()
	d.lock = nil
	return err
}

// Type returns the hypervisor type name, "LXC".
func (d *Driver) Type() string { return "LXC" }

// Version returns the hypervisor version: the host kernel's release.
func (d *Driver) Version() (uint64, error) { return d.host.KernelVersion() }

// Hostname returns the host's name.
func (d *Driver) Hostname() (string, error) { return d.host.Hostname() }

// NodeInfo returns the host's node information.
func (d *Driver) NodeInfo() (host.NodeInfo, error) { return d.host.NodeInfo() }

// Capabilities returns the host capabilities XML.
func (d *Driver) Capabilities() (string, error) {
	f, err := d.host.Facts(d.cfg.Emulator)
	if err != nil {
		return "", errorf(KindInternal, "gather host capabilities: %w", err)
	}
	return xmlconf.Capabilities(f)
}

// Sysinfo returns the host's SMBIOS-style sysinfo XML.
func (d *Driver) Sysinfo() (string, error) {
	f, err := d.host.SysinfoFacts()
	if err != nil {
		return "", errorf(KindInternal, "gather host sysinfo: %w", err)
	}
	return xmlconf.Sysinfo(f)
}

// NodeCPUStats returns CPU times of one host CPU, or all with host.AllCPUs.
func (d *Driver) NodeCPUStats(cpu int) ([]host.Stat, error) {
	s, err := d.host.CPUStats(cpu)
	if err != nil {
		return nil, errorf(KindInvalidArg, "%w", err)
	}
	return s, nil
}

// NodeMemoryStats returns memory statistics of the host or one NUMA cell.
func (d *Driver) NodeMemoryStats(cell int) ([]host.Stat, error) {
	s, err := d.host.MemoryStats(cell)
	if err != nil {
		return nil, errorf(KindInvalidArg, "%w", err)
	}
	return s, nil
}

// NodeFreeMemory returns the host's free memory in bytes.
func (d *Driver) NodeFreeMemory() (uint64, error) { return d.host.FreeMemory() }

// NodeCellsFreeMemory returns the free memory, in bytes, of up to max
// NUMA cells starting at start.
func (d *Driver) NodeCellsFreeMemory(start, max int) ([]uint64, error) {
	cells, err := d.host.Cells()
	if err != nil {
		return nil, err
	}
	if start < 0 || start >= len(cells) {
		return nil, errorf(KindInvalidArg, "start cell %d out of range (0-%d)", start, len(cells)-1)
	}
	var out []uint64
	for _, c := range cells[start:] {
		if len(out) == max {
			break
		}
		out = append(out, c.FreeKiB*1024)
	}
	return out, nil
}

// NodeCPUMap returns the number of host CPUs and which are online.
func (d *Driver) NodeCPUMap() (int, []bool, error) { return d.host.CPUMap() }
