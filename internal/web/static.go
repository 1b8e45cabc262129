package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
)

// loadStatic prepares the embedded assets: the stylesheets' URLs carry a hash
// of all of them, so a new build's assets are fetched at once and old ones can
// be cached for a long time.
func (s *site) loadStatic() error {
	h := sha256.New()
	err := fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return err
	}
	s.staticTag = hex.EncodeToString(h.Sum(nil)[:8])
	s.cssURLs = []string{"/static/steward.css?v=" + s.staticTag, "/static/processes.css?v=" + s.staticTag}
	return nil
}

// static serves GET /static/… from the embedded assets, without directory listings.
func (s *site) static(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if name == "" || strings.HasSuffix(name, "/") {
		s.notFound(w, r)
		return
	}
	sub, _ := fs.Sub(staticFS, "static")
	if _, err := fs.Stat(sub, name); err != nil {
		s.notFound(w, r)
		return
	}
	if r.URL.Query().Get("v") == s.staticTag {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+s.staticTag+`"`)
	http.ServeFileFS(w, r, sub, name)
}
