// Package container is the code that runs inside a new container: the
// init helper that the per-container monitor starts (a re-exec of the
// nsvirtd binary, already in the container's new namespaces). It receives
// a Plan from the daemon, builds the root file system, /proc, /sys, /dev
// and the domain's mounts, pivots into the root, sets the hostname, drops
// capabilities, takes the init user's identity and execs the domain's init.
//
// Plan is plain data: the driver computes it from the domain definition
// without making any system call, and this package only carries it out.
// The package knows nothing of libvirt XML or RPC.
package container

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
)

// InitCommand is the first argument that selects the init helper entry
// point of the nsvirtd binary.
const InitCommand = "__nsvirt_init"

// Plan is everything the init helper needs to build the container.
type Plan struct {
	Name     string
	UUID     string
	Hostname string // set when not empty

	Root Root
	// Mounts are the domain's other file systems, in definition order.
	Mounts []Mount

	UserNS   bool // the container has its own user namespace
	RootUID  int  // host view of the container's root, for created files
	RootGID  int
	NetNS    bool // the container has its own network namespace
	ShareNet string
	ShareIPC string
	ShareUTS string

	// Consoles are host paths of pty slaves: the first becomes
	// /dev/console and /dev/tty1, the Nth /dev/ttyN.
	Consoles []string
	// Devices are extra device nodes (disks, host devices).
	Devices []Device
	Cgroup  CgroupMounts

	// Caps are the capabilities the init keeps (by name, e.g. "sys_admin").
	Caps  []string
	Init  []string // argv of init, argv[0] being its path inside the root
	Env   []string
	Dir   string
	User  string // name or number, resolved inside the container
	Group string
}

// Root describes the container's root file system.
type Root struct {
	// Source is a host directory, or "/" to share the host's tree.
	Source string
	// Device, when set, is a block device mounted as the root (a block or
	// loop-backed file root).
	Device   string
	ReadOnly bool
	// Staging is an empty host directory where a device root or the
	// shared host tree is mounted, inside the container's mount namespace.
	Staging string
}

// MountKind is how a Mount is made.
type MountKind string

// Mount kinds.
const (
	MountBind   MountKind = "bind"   // bind a host path
	MountInner  MountKind = "inner"  // bind a path already inside the root
	MountTmpfs  MountKind = "tmpfs"  // a tmpfs of Size bytes
	MountDevice MountKind = "device" // mount block device Source
)

// Mount is one file system to mount inside the container.
type Mount struct {
	Kind     MountKind
	Source   string
	Target   string
	ReadOnly bool
	Size     uint64 // bytes, for tmpfs
}

// Device is a device node to create in the container's /dev.
type Device struct {
	Path         string // inside the container, e.g. /dev/sdb
	Type         byte   // 'b' or 'c'
	Major, Minor uint32
	Mode         uint32
}

// CgroupMounts says which cgroup file systems to show under
// /sys/fs/cgroup. The container has its own cgroup namespace, so each
// shows only the container's own cgroup.
type CgroupMounts struct {
	V1      []string // v1 hierarchies by mount option, e.g. "cpu", "name=systemd"
	Unified string   // "" (none), "unified" (hybrid) or "." (cgroup v2 at /sys/fs/cgroup)
}

// WritePlan sends p on w as a length-prefixed JSON document.
func WritePlan(w io.Writer, p *Plan) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = w.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
	if err == nil {
		_, err = w.Write(b)
	}
	return err
}

// maxPlan bounds the plan a helper accepts.
const maxPlan = 16 << 20

// ReadPlan reads a plan written by WritePlan.
func ReadPlan(r io.Reader) (*Plan, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	n := binary.BigEndian.Uint32(lb[:])
	if n > maxPlan {
		return nil, fmt.Errorf("plan of %d bytes is too large", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	return &p, nil
}
