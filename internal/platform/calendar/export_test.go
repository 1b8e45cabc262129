package calendar

import "time"

// SetFresh changes how long a cached schedule is used before its version is read again.
func (s *Service) SetFresh(d time.Duration) { s.fresh = d }
