package raci

import "steward/internal/platform/db"

// SetReaderForTest makes s read (outside transactions) through q, so that tests can count
// the queries role resolution costs.
func (s *Service) SetReaderForTest(q db.Queryer) { s.read = q }
