package netns

// Counters are a link's traffic counters, named as libvirt's interface
// statistics are.
type Counters struct {
	RxBytes, RxPackets, RxErrs, RxDrop uint64
	TxBytes, TxPackets, TxErrs, TxDrop uint64
}

// Swapped returns c seen from the other end of a veth: what one end
// transmits the other receives. libvirt reports a container interface's
// statistics as its host end's, swapped.
func (c Counters) Swapped() Counters {
	return Counters{
		RxBytes: c.TxBytes, RxPackets: c.TxPackets, RxErrs: c.TxErrs, RxDrop: c.TxDrop,
		TxBytes: c.RxBytes, TxPackets: c.RxPackets, TxErrs: c.RxErrs, TxDrop: c.RxDrop,
	}
}
