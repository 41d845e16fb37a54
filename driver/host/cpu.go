package host

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/nsvirt/nsvirt/xmlconf"
)

type cpuSummary struct {
	online         []int
	mhz            int
	sockets        int
	coresPerSocket int
	threadsPerCore int
	model, vendor  string
}

// ParseCPUList parses a kernel CPU list such as "0-3,8,10-11".
func ParseCPUList(s string) ([]int, error) {
	var out []int
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("malformed CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("malformed CPU list %q", s)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

func (h *Host) cpuList(name string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(h.Sys, "devices/system/cpu", name))
	if err != nil {
		return nil, fmt.Errorf("read CPU list: %w", err)
	}
	return ParseCPUList(string(b))
}

func (h *Host) topologyValue(cpu int, file string) int {
	b, err := os.ReadFile(filepath.Join(h.Sys, "devices/system/cpu", "cpu"+strconv.Itoa(cpu), "topology", file))
	if err != nil {
		return 0
	}
	v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return v
}

func (h *Host) siblings(cpu int) string {
	b, err := os.ReadFile(filepath.Join(h.Sys, "devices/system/cpu", "cpu"+strconv.Itoa(cpu), "topology/thread_siblings_list"))
	if err != nil {
		return strconv.Itoa(cpu)
	}
	return strings.TrimSpace(string(b))
}

func (h *Host) cpuInfo() (cpuSummary, error) {
	online, err := h.cpuList("online")
	if err != nil {
		return cpuSummary{}, err
	}
	s := cpuSummary{online: online}
	sockets := map[int]bool{}
	cores := map[[2]int]bool{}
	for _, c := range online {
		pkg := h.topologyValue(c, "physical_package_id")
		sockets[pkg] = true
		cores[[2]int{pkg, h.topologyValue(c, "core_id")}] = true
	}
	s.sockets = max(len(sockets), 1)
	s.coresPerSocket = max(len(cores)/s.sockets, 1)
	s.threadsPerCore = max(len(online)/max(len(cores), 1), 1)
	s.mhz, s.model, s.vendor = h.cpuinfoFields()
	return s, nil
}

// cpuinfoFields returns the clock rate, model name and vendor of the first
// processor in /proc/cpuinfo.
func (h *Host) cpuinfoFields() (mhz int, model, vendor string) {
	b, err := os.ReadFile(filepath.Join(h.Proc, "cpuinfo"))
	if err != nil {
		return 0, "", ""
	}
	for _, p := range parseCPUInfo(b) {
		if f, err := strconv.ParseFloat(p["cpu MHz"], 64); err == nil {
			mhz = int(f)
		}
		return mhz, p["model name"], p["vendor_id"]
	}
	return 0, "", ""
}

// parseCPUInfo splits /proc/cpuinfo into one key/value map per processor.
func parseCPUInfo(b []byte) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = map[string]string{}
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if ok {
			cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// Cell is a NUMA node with its online CPUs and memory in KiB.
type Cell struct {
	ID       int
	CPUs     []int
	TotalKiB uint64
	FreeKiB  uint64
}

// Cells returns the host's NUMA nodes. A host without NUMA information, or
// with a single node, is reported as one cell holding every online CPU and
// the whole machine's memory, so that the cell totals agree with
// /proc/meminfo.
func (h *Host) Cells() ([]Cell, error) {
	dirs, _ := filepath.Glob(filepath.Join(h.Sys, "devices/system/node/node[0-9]*"))
	if len(dirs) <= 1 {
		online, err := h.cpuList("online")
		if err != nil {
			return nil, err
		}
		mem, err := h.meminfo()
		if err != nil {
			return nil, err
		}
		return []Cell{{ID: 0, CPUs: online, TotalKiB: mem["MemTotal"], FreeKiB: mem["MemFree"]}}, nil
	}
	var cells []Cell
	for _, dir := range dirs {
		id, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), "node"))
		if err != nil {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, "cpulist"))
		cpus, _ := ParseCPUList(string(b))
		mem, err := readKiB(filepath.Join(dir, "meminfo"), "Node "+strconv.Itoa(id)+" ")
		if err != nil {
			return nil, err
		}
		cells = append(cells, Cell{ID: id, CPUs: cpus, TotalKiB: mem["MemTotal"], FreeKiB: mem["MemFree"]})
	}
	sort.Slice(cells, func(i, j int) bool { return cells[i].ID < cells[j].ID })
	return cells, nil
}

// CPUMap returns the number of present CPUs and which of them are online.
func (h *Host) CPUMap() (int, []bool, error) {
	present, err := h.cpuList("present")
	if err != nil {
		return 0, nil, err
	}
	online, err := h.cpuList("online")
	if err != nil {
		return 0, nil, err
	}
	n := 0
	for _, c := range present {
		n = max(n, c+1)
	}
	m := make([]bool, n)
	for _, c := range online {
		if c < n {
			m[c] = true
		}
	}
	return n, m, nil
}

// Facts gathers what the capabilities document reports. emulator is the
// path advertised as the guests' emulator.
func (h *Host) Facts(emulator string) (xmlconf.HostFacts, error) {
	info, err := h.cpuInfo()
	if err != nil {
		return xmlconf.HostFacts{}, err
	}
	cells, err := h.Cells()
	if err != nil {
		return xmlconf.HostFacts{}, err
	}
	f := xmlconf.HostFacts{
		UUID: h.UUID(), Arch: Arch(), Vendor: info.vendor,
		Sockets: info.sockets, Cores: info.coresPerSocket, Threads: info.threadsPerCore,
		Emulator: emulator, PageSizesKiB: h.pageSizes(),
	}
	for _, c := range cells {
		hc := xmlconf.HostCell{ID: c.ID, MemoryKiB: c.TotalKiB}
		for _, cpu := range c.CPUs {
			hc.CPUs = append(hc.CPUs, xmlconf.HostCPU{
				ID: cpu, SocketID: h.topologyValue(cpu, "physical_package_id"),
				DieID: h.topologyValue(cpu, "die_id"), CoreID: h.topologyValue(cpu, "core_id"),
				Siblings: h.siblings(cpu),
			})
		}
		f.Cells = append(f.Cells, hc)
	}
	return f, nil
}

// pageSizes returns the base page size followed by the huge page sizes the
// kernel supports, in KiB.
func (h *Host) pageSizes() []int {
	sizes := []int{os.Getpagesize() / 1024}
	dirs, _ := filepath.Glob(filepath.Join(h.Sys, "kernel/mm/hugepages/hugepages-*kB"))
	var huge []int
	for _, d := range dirs {
		s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(d), "hugepages-"), "kB")
		if v, err := strconv.Atoi(s); err == nil {
			huge = append(huge, v)
		}
	}
	sort.Ints(huge)
	return append(sizes, huge...)
}
