package host

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nsvirt/nsvirt/xmlconf"
)

// Stat is one named counter.
type Stat struct {
	Field string
	Value uint64
}

// AllCPUs and AllCells select the whole host in CPUStats and MemoryStats.
const (
	AllCPUs  = -1
	AllCells = -1
)

// userHZ is the kernel's USER_HZ: /proc/stat counts in 1/100 s.
const userHZ = 100

// CPUStats returns the kernel, user, idle and iowait times of one CPU (or
// of all with AllCPUs), in nanoseconds, as virNodeGetCPUStats reports them.
func (h *Host) CPUStats(cpu int) ([]Stat, error) {
	b, err := os.ReadFile(filepath.Join(h.Proc, "stat"))
	if err != nil {
		return nil, fmt.Errorf("read CPU statistics: %w", err)
	}
	want := "cpu"
	if cpu != AllCPUs {
		want += strconv.Itoa(cpu)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[0] != want {
			continue
		}
		var v [5]uint64 // user nice system idle iowait
		for i := range v {
			v[i], _ = strconv.ParseUint(f[i+1], 10, 64)
		}
		const ns = 1e9 / userHZ
		return []Stat{
			{"kernel", v[2] * ns},
			{"user", (v[0] + v[1]) * ns},
			{"idle", v[3] * ns},
			{"iowait", v[4] * ns},
		}, nil
	}
	return nil, fmt.Errorf("Invalid cpuNum in %s: %d", "virNodeGetCPUStats", cpu)
}

// MemoryStats returns total, free, buffers and cached memory in KiB for
// the host (AllCells) or total and free for one NUMA cell.
func (h *Host) MemoryStats(cell int) ([]Stat, error) {
	if cell == AllCells {
		mem, err := h.meminfo()
		if err != nil {
			return nil, err
		}
		return []Stat{
			{"total", mem["MemTotal"]}, {"free", mem["MemFree"]},
			{"buffers", mem["Buffers"]}, {"cached", mem["Cached"]},
		}, nil
	}
	cells, err := h.Cells()
	if err != nil {
		return nil, err
	}
	for _, c := range cells {
		if c.ID == cell {
			return []Stat{{"total", c.TotalKiB}, {"free", c.FreeKiB}}, nil
		}
	}
	return nil, fmt.Errorf("Invalid cell number %d", cell)
}

// FreeMemory returns the host's free memory in bytes.
func (h *Host) FreeMemory() (uint64, error) {
	mem, err := h.meminfo()
	if err != nil {
		return 0, err
	}
	return mem["MemFree"] * 1024, nil
}

// dmiFields maps sysinfo sections to the /sys/class/dmi/id files they come
// from, in libvirt's entry order.
var dmiFields = []struct {
	section string
	entry   string
	file    string
}{
	{"bios", "vendor", "bios_vendor"},
	{"bios", "version", "bios_version"},
	{"bios", "date", "bios_date"},
	{"bios", "release", "bios_release"},
	{"system", "manufacturer", "sys_vendor"},
	{"system", "product", "product_name"},
	{"system", "version", "product_version"},
	{"system", "serial", "product_serial"},
	{"system", "uuid", "product_uuid"},
	{"system", "sku", "product_sku"},
	{"system", "family", "product_family"},
	{"baseBoard", "manufacturer", "board_vendor"},
	{"baseBoard", "product", "board_name"},
	{"baseBoard", "version", "board_version"},
	{"baseBoard", "serial", "board_serial"},
	{"baseBoard", "asset", "board_asset_tag"},
	{"chassis", "manufacturer", "chassis_vendor"},
	{"chassis", "version", "chassis_version"},
	{"chassis", "serial", "chassis_serial"},
	{"chassis", "asset", "chassis_asset_tag"},
}

// SysinfoFacts gathers the host's SMBIOS-style information: the DMI tables
// that the kernel exports under /sys/class/dmi/id when the firmware has
// them (libvirt needs dmidecode and /dev/mem and fails without them), and
// processor and memory entries from /proc/cpuinfo and /proc/meminfo, which
// every Linux host has.
func (h *Host) SysinfoFacts() (xmlconf.SysinfoFacts, error) {
	var f xmlconf.SysinfoFacts
	sections := map[string]*[]xmlconf.SysinfoEntry{
		"bios": &f.BIOS, "system": &f.System, "baseBoard": &f.BaseBoard, "chassis": &f.Chassis,
	}
	for _, d := range dmiFields {
		b, err := os.ReadFile(filepath.Join(h.Sys, "class/dmi/id", d.file))
		if v := strings.TrimSpace(string(b)); err == nil && v != "" {
			*sections[d.section] = append(*sections[d.section], xmlconf.SysinfoEntry{Name: d.entry, Value: v})
		}
	}
	procs, err := h.processorEntries()
	if err != nil {
		return f, err
	}
	f.Processors = procs
	mem, err := h.meminfo()
	if err != nil {
		return f, err
	}
	f.Memory = [][]xmlconf.SysinfoEntry{{
		{Name: "size", Value: strconv.FormatUint(mem["MemTotal"]/1024, 10) + " MB"},
		{Name: "form_factor", Value: "Other"},
		{Name: "type", Value: "RAM"},
	}}
	return f, nil
}

// processorEntries returns one processor section per physical package.
func (h *Host) processorEntries() ([][]xmlconf.SysinfoEntry, error) {
	b, err := os.ReadFile(filepath.Join(h.Proc, "cpuinfo"))
	if err != nil {
		return nil, fmt.Errorf("read processor information: %w", err)
	}
	seen := map[string]bool{}
	var out [][]xmlconf.SysinfoEntry
	for _, p := range parseCPUInfo(b) {
		pkg := p["physical id"]
		if seen[pkg] {
			continue
		}
		seen[pkg] = true
		socket := pkg
		if socket == "" {
			socket = strconv.Itoa(len(out))
		}
		entries := []xmlconf.SysinfoEntry{
			{Name: "socket_destination", Value: "CPU " + socket},
			{Name: "type", Value: "Central Processor"},
			{Name: "family", Value: p["cpu family"]},
			{Name: "manufacturer", Value: p["vendor_id"]},
			{Name: "version", Value: p["model name"]},
		}
		if mhz, err := strconv.ParseFloat(p["cpu MHz"], 64); err == nil {
			entries = append(entries, xmlconf.SysinfoEntry{Name: "max_speed", Value: strconv.Itoa(int(mhz)) + " MHz"})
		}
		entries = append(entries, xmlconf.SysinfoEntry{Name: "status", Value: "Populated, Enabled"})
		out = append(out, entries)
	}
	return out, nil
}
