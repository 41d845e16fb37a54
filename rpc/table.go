package rpc

// buildTable assembles the dispatch table from the handler groups.
func (s *Server) buildTable() table {
	t := table{}
	s.connHandlers(t)
	s.listHandlers(t)
	s.eventHandlers(t)
	s.definitionHandlers(t)
	s.lifecycleHandlers(t)
	s.tuningHandlers(t)
	s.statsHandlers(t)
	s.interactiveHandlers(t)
	s.networkHandlers(t)
	s.interfaceHandlers(t)
	return t
}
