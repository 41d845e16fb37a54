// Package xmlconf parses, checks, completes and formats libvirt XML for the
// LXC driver: domain definitions (<domain type='lxc'>), networks, host
// capabilities and sysinfo, and lxc-tools native configuration.
//
// It is built on libvirt.org/go/libvirtxml for the document model and adds
// what that module lacks: libvirt's post-parse defaults and validation rules
// for LXC, detection of elements the model would silently drop, and output
// that matches libvirt's formatting byte for byte.
//
// xmlconf performs no I/O besides the byte slices it is given and makes no
// system calls: it knows nothing of RPC, cgroups, namespaces or the host.
package xmlconf
