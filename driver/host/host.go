// Package host reads what nsvirtd reports about the machine it runs on:
// node information, CPU and memory statistics, NUMA cells, the CPU map,
// and the facts behind the capabilities and sysinfo documents. Everything
// comes from /proc, /sys and /etc under roots that tests can replace; the
// package formats no XML and knows nothing of RPC.
package host

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Host reads host facts from file system roots (normally /proc, /sys and
// /etc).
type Host struct {
	Proc, Sys, Etc string

	mu       sync.Mutex
	info     NodeInfo
	infoTime time.Time
}

// nodeInfoTTL is how long NodeInfo reuses what it read: the topology and
// memory size change only on hot-plug, and clients such as virt-manager
// poll the call every second.
const nodeInfoTTL = time.Second

// New returns a Host that reads the real machine.
func New() *Host {
	return &Host{Proc: "/proc", Sys: "/sys", Etc: "/etc"}
}

// NodeInfo is what virNodeGetInfo reports.
type NodeInfo struct {
	Model     string // the machine architecture, as libvirt reports it
	MemoryKiB uint64
	CPUs      int
	MHz       int
	Nodes     int
	Sockets   int // per node
	Cores     int // per socket
	Threads   int // per core
}

// Arch returns the machine architecture (uname -m).
func Arch() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "x86_64"
	}
	return unix.ByteSliceToString(u.Machine[:])
}

// KernelVersion returns the running kernel's release encoded as libvirt
// encodes versions: major*1,000,000 + minor*1,000 + micro.
func (h *Host) KernelVersion() (uint64, error) {
	b, err := os.ReadFile(filepath.Join(h.Proc, "sys/kernel/osrelease"))
	if err != nil {
		return 0, fmt.Errorf("read kernel release: %w", err)
	}
	return ParseVersion(strings.TrimSpace(string(b)))
}

// ParseVersion encodes "6.18.44-extra" as 6018044.
func ParseVersion(s string) (uint64, error) {
	var parts [3]uint64
	fields := strings.SplitN(s, ".", 3)
	for i, f := range fields {
		end := 0
		for end < len(f) && f[end] >= '0' && f[end] <= '9' {
			end++
		}
		if end == 0 {
			if i == 0 {
				return 0, fmt.Errorf("malformed version %q", s)
			}
			break
		}
		v, err := strconv.ParseUint(f[:end], 10, 32)
		if err != nil || v > 999 && i > 0 {
			return 0, fmt.Errorf("malformed version %q", s)
		}
		parts[i] = v
		if end < len(f) {
			break
		}
	}
	return parts[0]*1000000 + parts[1]*1000 + parts[2], nil
}

// Hostname returns the host's name.
func (h *Host) Hostname() (string, error) {
	return os.Hostname()
}

// UUID returns a stable identifier for the host: the SMBIOS product UUID
// when the firmware offers one, otherwise /etc/machine-id in UUID form.
func (h *Host) UUID() string {
	if b, err := os.ReadFile(filepath.Join(h.Sys, "class/dmi/id/product_uuid")); err == nil {
		if s := strings.TrimSpace(string(b)); len(s) == 36 {
			return strings.ToLower(s)
		}
	}
	b, err := os.ReadFile(filepath.Join(h.Etc, "machine-id"))
	id := strings.TrimSpace(string(b))
	if err != nil || len(id) != 32 {
		return "00000000-0000-0000-0000-000000000000"
	}
	return id[0:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:32]
}

// NodeInfo returns the host's node information. Memory is the whole
// machine's MemTotal (libvirt sums NUMA node memory, which under-reports on
// hosts with memory outside any node).
func (h *Host) NodeInfo() (NodeInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Since(h.infoTime) < nodeInfoTTL {
		return h.info, nil
	}
	info, err := h.readNodeInfo()
	if err == nil {
		h.info, h.infoTime = info, time.Now()
	}
	return info, err
}

func (h *Host) readNodeInfo() (NodeInfo, error) {
	mem, err := h.meminfo()
	if err != nil {
		return NodeInfo{}, err
	}
	cpus, err := h.cpuInfo()
	if err != nil {
		return NodeInfo{}, err
	}
	cells, err := h.Cells()
	if err != nil {
		return NodeInfo{}, err
	}
	info := NodeInfo{
		Model:     Arch(),
		MemoryKiB: mem["MemTotal"],
		CPUs:      len(cpus.online),
		MHz:       cpus.mhz,
		Nodes:     max(len(cells), 1),
		Sockets:   max(cpus.sockets/max(len(cells), 1), 1),
		Cores:     max(cpus.coresPerSocket, 1),
		Threads:   max(cpus.threadsPerCore, 1),
	}
	if info.Nodes*info.Sockets*info.Cores*info.Threads != info.CPUs {
		// Uneven topology (offline CPUs, odd hypervisors): report a flat
		// layout, as libvirt does, so the product still equals CPUs.
		info.Nodes, info.Sockets, info.Cores, info.Threads = 1, 1, info.CPUs, 1
	}
	return info, nil
}

// DefaultHugepageKiB returns the kernel's default huge page size in KiB
// (Hugepagesize in /proc/meminfo), or 0 when it has none.
func (h *Host) DefaultHugepageKiB() uint64 {
	m, err := h.meminfo()
	if err != nil {
		return 0
	}
	return m["Hugepagesize"]
}

// meminfo parses /proc/meminfo into KiB values.
func (h *Host) meminfo() (map[string]uint64, error) {
	return readKiB(filepath.Join(h.Proc, "meminfo"), "")
}

// readKiB parses "Key: N kB" lines, after stripping prefix from each line
// (node meminfo files start with "Node 0 ").
func readKiB(path, prefix string) (map[string]uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read memory information: %w", err)
	}
	out := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), prefix)
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseUint(f[0], 10, 64); err == nil {
			out[strings.TrimSpace(key)] = v
		}
	}
	return out, nil
}
