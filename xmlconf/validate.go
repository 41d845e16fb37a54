package xmlconf

import (
	"reflect"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// validateDomain makes the checks of libvirt's virDomainDefValidate that
// concern LXC definitions. libvirt runs them when a definition is defined
// or created, not when one is converted from a native configuration, so
// ParseDomain applies them and Complete does not.
func validateDomain(def *libvirtxml.Domain) error {
	if err := validateAliases(def); err != nil {
		return err
	}
	if err := validateLifecycle(def); err != nil {
		return err
	}
	if err := validateCPUTune(def.CPUTune); err != nil {
		return err
	}
	if err := validateBlkio(def.BlockIOTune); err != nil {
		return err
	}
	return validateIDMap(def.IDMap)
}

// validateLifecycle refuses core dump actions for events other than a
// crash.
func validateLifecycle(def *libvirtxml.Domain) error {
	for _, ev := range []struct{ name, action string }{{"poweroff", def.OnPoweroff}, {"reboot", def.OnReboot}} {
		if strings.HasPrefix(ev.action, "coredump-") {
			return errf(ErrConfigUnsupported, "Lifecycle event '%s' doesn't support '%s' action", ev.name, ev.action)
		}
	}
	return nil
}

// validateCPUTune checks the ranges of CPU bandwidth periods and quotas.
func validateCPUTune(ct *libvirtxml.DomainCPUTune) error {
	if ct == nil {
		return nil
	}
	periods := []struct {
		name string
		p    *libvirtxml.DomainCPUTunePeriod
	}{{"period", ct.Period}, {"global_period", ct.GlobalPeriod}, {"emulator_period", ct.EmulatorPeriod}, {"iothread_period", ct.IOThreadPeriod}}
	for _, p := range periods {
		if p.p != nil && p.p.Value > 0 && (p.p.Value < 1000 || p.p.Value > 1000000) {
			return errf(ErrConfigUnsupported, "Value of cputune '%s' must be in range [1000, 1000000]", p.name)
		}
	}
	quotas := []struct {
		name string
		q    *libvirtxml.DomainCPUTuneQuota
	}{{"quota", ct.Quota}, {"global_quota", ct.GlobalQuota}, {"emulator_quota", ct.EmulatorQuota}, {"iothread_quota", ct.IOThreadQuota}}
	for _, q := range quotas {
		if q.q != nil && q.q.Value > 0 && (q.q.Value < 1000 || q.q.Value > 18446744073709551) {
			return errf(ErrConfigUnsupported, "Value of cputune '%s' must be in range [1000, 18446744073709551]", q.name)
		}
	}
	return nil
}

// validateBlkio refuses two settings for one block device.
func validateBlkio(bt *libvirtxml.DomainBlockIOTune) error {
	if bt == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, d := range bt.Device {
		if seen[d.Path] {
			return errf(ErrConfigUnsupported, "duplicate blkio device path '%s'", d.Path)
		}
		seen[d.Path] = true
	}
	return nil
}

// validateIDMap checks that a user namespace maps both users and groups,
// container root included (the maps are sorted by container id).
func validateIDMap(m *libvirtxml.DomainIDMap) error {
	if m == nil {
		return nil
	}
	if (len(m.UIDs) == 0) != (len(m.GIDs) == 0) {
		return errf(ErrConfigUnsupported, "uid and gid should be mapped both")
	}
	if len(m.UIDs) > 0 && (m.UIDs[0].Start != 0 || m.GIDs[0].Start != 0) {
		return errf(ErrConfigUnsupported, "You must map the root user of container")
	}
	return nil
}

// validateAliases refuses two devices with the same user alias.
func validateAliases(def *libvirtxml.Domain) error {
	if def.Devices == nil {
		return nil
	}
	seen := map[string]bool{}
	v := reflect.ValueOf(def.Devices).Elem()
	aliasType := reflect.TypeOf((*libvirtxml.DomainAlias)(nil))
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.Slice || f.Type().Elem().Kind() != reflect.Struct {
			continue
		}
		for j := 0; j < f.Len(); j++ {
			a := f.Index(j).FieldByName("Alias")
			if !a.IsValid() || a.Type() != aliasType || a.IsNil() {
				continue
			}
			name := a.Interface().(*libvirtxml.DomainAlias).Name
			if !strings.HasPrefix(name, "ua-") {
				continue
			}
			if seen[name] {
				return errf(ErrConfigUnsupported, "non unique alias detected: %s", name)
			}
			seen[name] = true
		}
	}
	return nil
}
