// Package dnsmasq runs DHCP and DNS for one libvirt-style virtual network
// the way libvirt does: one dnsmasq process per network, bound to the
// network's bridge, with a generated configuration file, a DHCP hosts file
// for static leases and an extra hosts file for DNS names.
//
// It writes the files ([Config.Conf], [HostsFile], [AddnHosts]), starts
// dnsmasq as a daemon that outlives nsvirtd ([Start]), finds it again from
// its directory after a daemon restart ([Running], [Stop], [Reload]), and
// reads the lease file back ([Leases]) for domifaddr and domhostname.
// libvirt keeps leases with a helper script and leasefile-ro; this package
// lets dnsmasq write its own lease file instead (dhcp-leasefile).
//
// A process is only ever signalled after its command line shows it is
// dnsmasq running this package's configuration file for that directory;
// nothing is killed by name.
//
// The package must not know libvirt network XML, the RPC protocol, the
// driver, or the firewall (netns/nat); it takes its own small [Config].
package dnsmasq
