package xmlconf

import (
	"strconv"

	"libvirt.org/go/libvirtxml"
)

// HostFacts are the facts about the host that the capabilities document
// reports. The driver gathers them; this package only shapes the XML.
type HostFacts struct {
	UUID     string
	Arch     string // x86_64, aarch64, ...
	Model    string // CPU model name, may be empty
	Vendor   string
	Sockets  int
	Cores    int // per socket
	Threads  int // per core
	Cells    []HostCell
	Emulator string // path reported as the guests' emulator
	// PageSizesKiB are the host page sizes (base page first).
	PageSizesKiB []int
}

// HostCell is one NUMA node.
type HostCell struct {
	ID        int
	MemoryKiB uint64
	CPUs      []HostCPU
}

// HostCPU is one logical CPU of a cell.
type HostCPU struct {
	ID, SocketID, DieID, CoreID int
	Siblings                    string
}

// alternateArch is the 32-bit architecture a 64-bit host also runs, as
// libvirt's LXC driver advertises it.
var alternateArch = map[string]string{
	"x86_64":   "i686",
	"s390x":    "s390",
	"ppc64":    "ppc",
	"parisc64": "parisc",
	"sparc64":  "sparc",
	"mips64":   "mips",
	"mips64el": "mipsel",
	"aarch64":  "armv7l",
}

// wordSize returns the word size libvirt reports for arch.
func wordSize(arch string) int {
	switch arch {
	case "i686", "s390", "ppc", "parisc", "sparc", "mips", "mipsel", "armv7l":
		return 32
	}
	return 64
}

// GuestArchs returns the architectures an LXC guest may declare on a host
// of architecture arch: the host's own and its 32-bit counterpart.
func GuestArchs(arch string) []string {
	if alt := alternateArch[arch]; alt != "" {
		return []string{arch, alt}
	}
	return []string{arch}
}

// Capabilities returns the capabilities XML (virsh capabilities) of an LXC
// host: host CPU and NUMA topology, the "none" security model, and one
// guest of os_type exe and domain type lxc per supported architecture.
func Capabilities(f HostFacts) (string, error) {
	caps := libvirtxml.Caps{Host: libvirtxml.CapsHost{
		UUID: f.UUID,
		CPU: &libvirtxml.CapsHostCPU{
			Arch:     f.Arch,
			Model:    f.Model,
			Vendor:   f.Vendor,
			Topology: &libvirtxml.CapsHostCPUTopology{Sockets: f.Sockets, Dies: 1, Cores: f.Cores, Threads: f.Threads},
		},
		NUMA:     &libvirtxml.CapsHostNUMATopology{Cells: capsCells(f)},
		SecModel: []libvirtxml.CapsHostSecModel{{Name: "none", DOI: "0"}},
	}}
	for _, size := range f.PageSizesKiB {
		caps.Host.CPU.PageSizes = append(caps.Host.CPU.PageSizes, libvirtxml.CapsHostCPUPageSize{Size: size, Unit: "KiB"})
	}
	for _, arch := range GuestArchs(f.Arch) {
		caps.Guests = append(caps.Guests, libvirtxml.CapsGuest{
			OSType: "exe",
			Arch: libvirtxml.CapsGuestArch{
				Name:     arch,
				WordSize: strconv.Itoa(wordSize(arch)),
				Emulator: f.Emulator,
				Domains:  []libvirtxml.CapsGuestDomain{{Type: "lxc"}},
			},
		})
	}
	return Marshal(&caps)
}

func capsCells(f HostFacts) *libvirtxml.CapsHostNUMACells {
	cells := &libvirtxml.CapsHostNUMACells{Num: uint(len(f.Cells))}
	for _, c := range f.Cells {
		cell := libvirtxml.CapsHostNUMACell{
			ID:        c.ID,
			Memory:    &libvirtxml.CapsHostNUMAMemory{Size: c.MemoryKiB, Unit: "KiB"},
			Distances: &libvirtxml.CapsHostNUMADistances{},
			CPUS:      &libvirtxml.CapsHostNUMACPUs{Num: uint(len(c.CPUs))},
		}
		for _, other := range f.Cells {
			dist := 20
			if other.ID == c.ID {
				dist = 10
			}
			cell.Distances.Siblings = append(cell.Distances.Siblings, libvirtxml.CapsHostNUMASibling{ID: other.ID, Value: dist})
		}
		for _, cpu := range c.CPUs {
			cpu := cpu
			cell.CPUS.CPUs = append(cell.CPUS.CPUs, libvirtxml.CapsHostNUMACPU{
				ID: cpu.ID, SocketID: &cpu.SocketID, DieID: &cpu.DieID, CoreID: &cpu.CoreID, Siblings: cpu.Siblings,
			})
		}
		cells.Cells = append(cells.Cells, cell)
	}
	return cells
}

// SysinfoEntry is one name/value line of a sysinfo section.
type SysinfoEntry struct{ Name, Value string }

// SysinfoFacts are the SMBIOS-style sections of the host's sysinfo.
// Sections without entries are left out.
type SysinfoFacts struct {
	BIOS, System, BaseBoard, Chassis []SysinfoEntry
	Processors, Memory               [][]SysinfoEntry
}

// Sysinfo returns the host sysinfo XML (virsh sysinfo), <sysinfo
// type='smbios'>, from whatever the host offers.
func Sysinfo(f SysinfoFacts) (string, error) {
	s := &libvirtxml.SysInfoSMBIOS{}
	if len(f.BIOS) > 0 {
		s.BIOS = &libvirtxml.SysInfoBIOS{Entry: entries(f.BIOS)}
	}
	if len(f.System) > 0 {
		s.System = &libvirtxml.SysInfoSystem{Entry: entries(f.System)}
	}
	if len(f.BaseBoard) > 0 {
		s.BaseBoard = []libvirtxml.SysInfoBaseBoard{{Entry: entries(f.BaseBoard)}}
	}
	if len(f.Chassis) > 0 {
		s.Chassis = &libvirtxml.SysInfoChassis{Entry: entries(f.Chassis)}
	}
	for _, p := range f.Processors {
		s.Processor = append(s.Processor, libvirtxml.SysInfoProcessor{Entry: entries(p)})
	}
	for _, m := range f.Memory {
		s.Memory = append(s.Memory, libvirtxml.SysInfoMemory{Entry: entries(m)})
	}
	return Marshal(&libvirtxml.SysInfo{SMBIOS: s})
}

func entries(in []SysinfoEntry) []libvirtxml.SysInfoEntry {
	out := make([]libvirtxml.SysInfoEntry, 0, len(in))
	for _, e := range in {
		if e.Value != "" {
			out = append(out, libvirtxml.SysInfoEntry{Name: e.Name, Value: e.Value})
		}
	}
	return out
}
