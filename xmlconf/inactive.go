package xmlconf

import (
	"reflect"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// completeParsed applies what libvirt's parser does beyond post-parse:
// the architecture defaults to the host's and user namespace maps are
// sorted; for a definition read with VIR_DOMAIN_DEF_PARSE_INACTIVE
// (define, unless opts.Live) what only a running domain has is dropped
// (PTY paths, aliases libvirt assigned, generated interface names,
// dynamic security labels).
func completeParsed(d *Domain, opts ParseOptions) error {
	def := d.Def
	sortIDMap(def)
	if def.OS != nil && def.OS.Type != nil && def.OS.Type.Arch == "" {
		def.OS.Type.Arch = opts.HostArch
	}
	if opts.Live {
		return nil
	}
	if def.Devices != nil {
		dropLiveDevices(def.Devices)
	}
	for i := range def.SecLabel {
		if sl := &def.SecLabel[i]; sl.Type == "dynamic" || sl.Type == "" {
			sl.Label, sl.ImageLabel = "", ""
		}
	}
	return nil
}

// dropLiveDevices removes the live-only parts of devices.
func dropLiveDevices(devs *libvirtxml.DomainDeviceList) {
	for i := range devs.Consoles {
		c := &devs.Consoles[i]
		if c.Source != nil && c.Source.Pty != nil {
			c.TTY = ""
			c.Source.Pty.Path = ""
			c.Source.Pty.SecLabel = nil
		}
	}
	for i := range devs.Interfaces {
		t := devs.Interfaces[i].Target
		if t == nil {
			continue
		}
		for _, p := range generatedNetPrefixes {
			if strings.HasPrefix(t.Dev, p) {
				devs.Interfaces[i].Target = nil
				break
			}
		}
	}
	dropAliases(reflect.ValueOf(devs).Elem())
}

// dropAliases clears, in every device, an alias libvirt assigned (user
// aliases start with "ua-").
func dropAliases(v reflect.Value) {
	aliasType := reflect.TypeOf((*libvirtxml.DomainAlias)(nil))
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			for j := 0; j < f.Len(); j++ {
				clearAlias(f.Index(j), aliasType)
			}
		case f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.Struct:
			clearAlias(f.Elem(), aliasType)
		}
	}
}

func clearAlias(dev reflect.Value, aliasType reflect.Type) {
	f := dev.FieldByName("Alias")
	if !f.IsValid() || f.Type() != aliasType || f.IsNil() {
		return
	}
	if a := f.Interface().(*libvirtxml.DomainAlias); !strings.HasPrefix(a.Name, "ua-") {
		f.Set(reflect.Zero(aliasType))
	}
}
