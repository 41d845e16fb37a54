package xmlconf

import (
	"cmp"
	"slices"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// complete implements Complete, in the order of libvirt's
// virDomainDefPostParse: the LXC driver's callback (capabilities,
// emulator), the devices, the common rules, then the driver features.
func complete(d *Domain, opts ParseOptions) error {
	def := d.Def
	if def == nil {
		return errf(ErrInternal, "no domain definition")
	}
	if def.Name == "" {
		return errf(ErrNoName, "missing name information")
	}
	if err := completeUUID(def); err != nil {
		return err
	}
	if err := checkCapabilities(def, opts.HostArch); err != nil {
		return err
	}
	if def.Devices == nil {
		def.Devices = &libvirtxml.DomainDeviceList{}
	}
	if def.Devices.Emulator == "" {
		def.Devices.Emulator = opts.Emulator
	}
	if err := completeDevices(d); err != nil {
		return err
	}
	if err := completeCommon(def); err != nil {
		return err
	}
	return checkDriverFeatures(def)
}

// completeUUID generates a missing UUID and writes a given one in
// canonical form.
func completeUUID(def *libvirtxml.Domain) error {
	if strings.TrimSpace(def.UUID) == "" {
		def.UUID = NewUUID()
		return nil
	}
	u, ok := parseUUID(def.UUID)
	if !ok {
		return errf(ErrInternal, "malformed uuid element")
	}
	def.UUID = u
	return nil
}

// checkCapabilities is the LXC driver's capabilities check: domain type
// lxc, OS type exe, and the host architecture or its 32-bit counterpart
// (any architecture when hostArch is unknown).
func checkCapabilities(def *libvirtxml.Domain, hostArch string) error {
	if def.OS == nil || def.OS.Type == nil || def.OS.Type.Type == "" {
		return errf(ErrXML, "an os <type> must be specified")
	}
	arch := def.OS.Type.Arch
	archOK := arch == "" || hostArch == "" || slices.Contains(GuestArchs(hostArch), arch)
	if def.Type == "lxc" && def.OS.Type.Type == "exe" && archOK {
		return nil
	}
	var b strings.Builder
	if def.OS.Type.Type != "hvm" {
		b.WriteString("ostype=" + def.OS.Type.Type + " ")
	}
	if arch != "" {
		b.WriteString("arch=" + arch + " ")
	}
	if def.Type != "" {
		b.WriteString("domaintype=" + def.Type + " ")
	}
	return errf(ErrInvalidArg, "could not find capabilities for %s", b.String())
}

// completeCommon applies libvirt's common post-parse rules
// (virDomainDefPostParseCommon) and its parser's defaults.
func completeCommon(def *libvirtxml.Domain) error {
	if def.OS.Type.Type == "exe" && def.OS.Init == "" {
		return errf(ErrXML, "init binary must be specified")
	}
	if err := completeVCPU(def); err != nil {
		return err
	}
	if err := completeMemory(def); err != nil {
		return err
	}
	if err := completeTuning(def); err != nil {
		return err
	}
	completeFeatures(def)
	completeLifecycle(def)
	completeSecLabels(def)
	return nil
}

// completeLifecycle fills in the default lifecycle actions and clock.
func completeLifecycle(def *libvirtxml.Domain) {
	if def.OnPoweroff == "" {
		def.OnPoweroff = "destroy"
	}
	if def.OnReboot == "" {
		def.OnReboot = "restart"
	}
	if def.OnCrash == "" {
		def.OnCrash = "destroy"
	}
	if def.Clock == nil {
		def.Clock = &libvirtxml.DomainClock{}
	}
	if def.Clock.Offset == "" {
		def.Clock.Offset = "utc"
	}
}

// completeVCPU fills in <vcpu placement='static'>1</vcpu> and writes the
// CPU set as libvirt does.
func completeVCPU(def *libvirtxml.Domain) error {
	if def.VCPU == nil {
		def.VCPU = &libvirtxml.DomainVCPU{}
	}
	v := def.VCPU
	if v.Value == 0 {
		v.Value = 1
	}
	switch v.Placement {
	case "":
		v.Placement = "static"
	case "static", "auto":
	default:
		return errf(ErrConfigUnsupported, "Unsupported CPU placement mode '%s'", v.Placement)
	}
	if v.Placement == "auto" {
		v.CPUSet = ""
	}
	if v.CPUSet != "" {
		set, err := canonicalBitmap(v.CPUSet)
		if err != nil {
			return err
		}
		if set == "" {
			return errf(ErrConfigUnsupported, "Invalid value of 'cpuset': %s", v.CPUSet)
		}
		v.CPUSet = set
	}
	if v.Current > v.Value {
		return errf(ErrInternal, "maxvcpus must not be less than current vcpus (%d < %d)", v.Value, v.Current)
	}
	if v.Current == v.Value {
		v.Current = 0
	}
	return nil
}

// completeMemory normalises sizes to KiB and applies
// virDomainDefPostParseMemory.
func completeMemory(def *libvirtxml.Domain) error {
	total, err := memoryValue(def.Memory)
	if err != nil {
		return err
	}
	if total == 0 {
		total = numaMemory(def)
	}
	if total == 0 {
		return errf(ErrXML, "Memory size must be specified via <memory> or in the <numa> configuration")
	}
	if def.Memory == nil {
		def.Memory = &libvirtxml.DomainMemory{}
	}
	def.Memory.Value, def.Memory.Unit = uint(total), "KiB"
	cur := uint64(0)
	if def.CurrentMemory != nil {
		if cur, err = memoryKiB(uint64(def.CurrentMemory.Value), def.CurrentMemory.Unit); err != nil {
			return err
		}
	}
	if cur == 0 || cur > total {
		cur = total
	}
	def.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: uint(cur), Unit: "KiB"}
	if err := completeMaxMemory(def, total); err != nil {
		return err
	}
	return completeMemtune(def)
}

func memoryValue(m *libvirtxml.DomainMemory) (uint64, error) {
	if m == nil {
		return 0, nil
	}
	return memoryKiB(uint64(m.Value), m.Unit)
}

// numaMemory sums the memory of the guest NUMA cells, in KiB.
func numaMemory(def *libvirtxml.Domain) uint64 {
	if def.CPU == nil || def.CPU.Numa == nil {
		return 0
	}
	var sum uint64
	for _, c := range def.CPU.Numa.Cell {
		kib, err := memoryKiB(uint64(c.Memory), c.Unit)
		if err == nil {
			sum += kib
		}
	}
	return sum
}

func completeMaxMemory(def *libvirtxml.Domain, total uint64) error {
	m := def.MaximumMemory
	if m == nil {
		return nil
	}
	maxKiB, err := memoryKiB(uint64(m.Value), m.Unit)
	if err != nil {
		return err
	}
	if maxKiB == 0 && m.Slots > 0 {
		return errf(ErrXML, "maximum memory size must be specified when specifying number of memory slots")
	}
	if maxKiB != 0 && maxKiB < total {
		return errf(ErrXML, "maximum memory size must be equal or greater than the actual memory size")
	}
	m.Value, m.Unit = uint(maxKiB), "KiB"
	if maxKiB == 0 && m.Slots == 0 {
		def.MaximumMemory = nil
	}
	return nil
}

// completeMemtune writes memtune limits in KiB and drops the unlimited
// ones, which libvirt does not write.
func completeMemtune(def *libvirtxml.Domain) error {
	mt := def.MemoryTune
	if mt == nil {
		return nil
	}
	for _, l := range []**libvirtxml.DomainMemoryTuneLimit{&mt.HardLimit, &mt.SoftLimit, &mt.SwapHardLimit} {
		if *l == nil {
			continue
		}
		kib, err := limitKiB((*l).Value, (*l).Unit)
		if err != nil {
			return err
		}
		if kib >= UnlimitedKiB {
			*l = nil
			continue
		}
		(*l).Value, (*l).Unit = kib, "KiB"
	}
	if g := mt.MinGuarantee; g != nil {
		kib, err := memoryKiB(g.Value, g.Unit)
		if err != nil {
			return err
		}
		g.Value, g.Unit = kib, "KiB"
		if kib == 0 {
			mt.MinGuarantee = nil
		}
	}
	return nil
}

// completeTuning writes the NUMA memory policy as libvirt does.
func completeTuning(def *libvirtxml.Domain) error {
	nt := def.NUMATune
	if nt == nil || nt.Memory == nil {
		return nil
	}
	m := nt.Memory
	if m.Mode == "" {
		m.Mode = "strict"
	}
	if m.Nodeset != "" {
		set, err := canonicalBitmap(m.Nodeset)
		if err != nil {
			return err
		}
		m.Nodeset, m.Placement = set, ""
		return nil
	}
	if m.Placement == "" && def.VCPU != nil && def.VCPU.Placement == "auto" {
		m.Placement = "auto"
	}
	if m.Placement != "auto" {
		return errf(ErrXML, "nodeset for NUMA memory tuning must be set if 'placement' is 'static'")
	}
	return nil
}

// sortIDMap sorts the user namespace maps by container id, as libvirt's
// parser (virDomainIdmapDefParseXML) does.
func sortIDMap(def *libvirtxml.Domain) {
	if def.IDMap == nil {
		return
	}
	for _, m := range [][]libvirtxml.DomainIDMapRange{def.IDMap.UIDs, def.IDMap.GIDs} {
		slices.SortStableFunc(m, func(a, b libvirtxml.DomainIDMapRange) int {
			return cmp.Compare(a.Start, b.Start)
		})
	}
}

// completeFeatures gives capabilities without a state the state "on", as
// libvirt's parser does.
func completeFeatures(def *libvirtxml.Domain) {
	if def.Features == nil || def.Features.Capabilities == nil {
		return
	}
	forEachCapability(def.Features.Capabilities, func(_ string, c **libvirtxml.DomainFeatureCapability) {
		if *c != nil && (*c).State == "" {
			(*c).State = "on"
		}
	})
}

// completeSecLabels fills in libvirt's relabel default: yes for dynamic
// labels, no for static ones.
func completeSecLabels(def *libvirtxml.Domain) {
	for i := range def.SecLabel {
		sl := &def.SecLabel[i]
		if sl.Type == "" {
			sl.Type = "dynamic"
		}
		if sl.Relabel == "" && sl.Type != "none" {
			sl.Relabel = map[bool]string{true: "yes", false: "no"}[sl.Type == "dynamic"]
		}
	}
}

// checkDriverFeatures refuses what the LXC driver's parser configuration
// does not support (virDomainDefPostParseCheckFeatures).
func checkDriverFeatures(def *libvirtxml.Domain) error {
	if m := def.MaximumMemory; m != nil && (m.Value > 0 || m.Slots > 0) {
		return errf(ErrConfigUnsupported, "memory hotplug tunables <maxMemory> are not supported by this hypervisor driver")
	}
	if strings.Contains(def.Name, "/") {
		return errf(ErrXML, "name %s cannot contain '/'", def.Name)
	}
	if def.VCPUs != nil {
		return errf(ErrConfigUnsupported, "individual CPU state configuration is not supported")
	}
	return nil
}
