package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestIncidentQueuePath(t *testing.T) {
	t.Parallel()
	p := incidentQueuePath(42, "in_progress")
	path, query, _ := strings.Cut(p, "?")
	v, err := url.ParseQuery(query)
	if err != nil || path != "/api/v1/incidents" || v.Get("team") != "42" || v.Get("state") != "in_progress" ||
		v.Get("sort") != "priority,createdAt" || v.Get("limit") != "50" {
		t.Errorf("queue path %s (%v)", p, err)
	}
}

func TestIncidentBody(t *testing.T) {
	t.Parallel()
	var got map[string]any
	if err := json.Unmarshal([]byte(incidentBody(`Bench "x"`, 2, 3, incidentRef{service: 7, ci: 9},
		incidentCategory{"software", "application-error"})), &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"title": `Bench "x"`, "impact": 2.0, "urgency": 3.0, "service": 7.0, "ci": 9.0,
		"category": "software", "subcategory": "application-error"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	var bare map[string]any
	if err := json.Unmarshal([]byte(incidentBody("t", 3, 3, incidentRef{}, incidentCategory{"access", "password"})), &bare); err != nil {
		t.Fatal(err)
	}
	if _, ok := bare["service"]; ok {
		t.Error("a zero service was sent")
	}
}

func TestIncidentScenariosRegistered(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, s := range registry() {
		names[s.Name] = true
	}
	for _, n := range []string{"incident.create", "incident.queue", "incident.search", "incident.search.ranked"} {
		if !names[n] {
			t.Errorf("scenario %s is not registered", n)
		}
	}
}
