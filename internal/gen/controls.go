package gen

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"steward/internal/framework"
	"steward/internal/improvement/controls"
	"steward/internal/platform/db"
	"steward/internal/platform/record"
)

// genControls writes the common process controls of DESMF §6 through the
// record kernel's tables: every process's framework documents (policies,
// procedures, KPI definitions and tool requirements, in lines of versions
// that went through review and approval), its findings with their corrective
// actions (Plan.Findings in all, most in the busy processes), and its
// quarterly performance evaluations.
func genControls(ctx context.Context, w *World) error {
	k, err := newKernel(w)
	if err != nil {
		return err
	}
	g := &ctrlGen{w: w, k: k}
	ranked := busiestFirst(w.Model)
	for rank, p := range ranked {
		if _, err := record.ControlActivity(w.Model, p.Code, framework.ControlEstablish); err == nil {
			if err := g.documents(p, rank); err != nil {
				return err
			}
		}
	}
	if err := g.findings(ranked); err != nil {
		return err
	}
	for rank, p := range ranked {
		if _, err := record.ControlActivity(w.Model, p.Code, framework.ControlEvaluate); err == nil {
			if err := g.evaluations(p, rank); err != nil {
				return err
			}
		}
	}
	return k.write(ctx)
}

// newKernel reads the controls' record types (states, labels, transitions) by
// registering them with a record kernel, exactly as the application does.
func newKernel(w *World) (*kernel, error) {
	rs := record.New(record.Deps{DB: w.out.tx.DB(), Model: w.Model})
	if _, err := controls.New(controls.Deps{DB: w.out.tx.DB(), Records: rs, Model: w.Model}); err != nil {
		return nil, err
	}
	k := &kernel{w: w, types: map[string]record.Type{}}
	for _, name := range []string{controls.DocumentType, controls.FindingType, controls.EvaluationType} {
		t, err := rs.Type(name)
		if err != nil {
			return nil, err
		}
		k.types[name] = t
	}
	return k, nil
}

// ctrlGen generates the control records of one run.
type ctrlGen struct {
	w *World
	k *kernel
}

// days is a random span of lo to hi days, in ms.
func (g *ctrlGen) days(lo, hi float64) int64 {
	return int64((lo + g.w.R.Float64()*(hi-lo)) * float64(day))
}

// marking is the classification of a process's control records: CUI for security.
func marking(p *framework.Process) string {
	if p.Code == "ISM" || p.Code == "SEC" {
		return "CUI"
	}
	return ""
}

// docInfo is a process document's own row.
type docInfo struct {
	kind       controls.DocumentKind
	version    int64
	body       string
	kpi        string
	supersedes *rec
	approvedAt int64
}

// docLine is a document through its versions.
type docLine struct {
	p           *framework.Process
	kind        controls.DocumentKind
	title, desc string
	body        func(version int64) string
	kpi         *controls.KPI
}

// newDoc drafts version v of a line, superseding prev when it is approved.
func (g *ctrlGen) newDoc(l docLine, v int64, prev *rec, by int, at int64) (*rec, *docInfo, error) {
	info := &docInfo{kind: l.kind, version: v, body: l.body(v), supersedes: prev}
	if l.kpi != nil {
		b, err := json.Marshal(l.kpi)
		if err != nil {
			return nil, nil, err
		}
		info.kpi = string(b)
	}
	r := g.k.create(controls.DocumentType, l.p.Code, l.title, l.desc, marking(l.p), by, at)
	r.own = func(r *rec) error {
		var sup int64
		if info.supersedes != nil {
			sup = info.supersedes.id
		}
		return g.w.add("control_documents", r.id, string(info.kind), info.version, info.body, info.kpi, db.NullID(sup), info.approvedAt)
	}
	return r, info, nil
}

// review takes a draft through submission (sometimes returned and resubmitted)
// to approval by the owner, stopping at the epoch. It returns when the
// document was approved, or 0. A document still in review may wait for the
// owner's approval, requested by the manager.
func (g *ctrlGen) review(d *rec, info *docInfo, mgr, owner int, at int64) (int64, error) {
	r := g.w.R
	t := at + g.days(1, 10)
	if t >= EpochMillis {
		return 0, nil
	}
	if err := g.k.step(d, "submit", mgr, t); err != nil {
		return 0, err
	}
	if r.Float64() < 0.2 {
		if t += g.days(1, 5); t >= EpochMillis {
			return 0, nil
		}
		if err := g.k.step(d, "rework", owner, t); err != nil {
			return 0, err
		}
		if t += g.days(1, 7); t >= EpochMillis {
			return 0, nil
		}
		if err := g.k.step(d, "submit", mgr, t); err != nil {
			return 0, err
		}
	}
	next := t + g.days(1, 20)
	if next >= EpochMillis {
		if r.Float64() < 0.5 {
			return 0, g.k.request(d, "approve", mgr, t+(EpochMillis-t)/2, []int{owner})
		}
		return 0, nil
	}
	if err := g.k.step(d, "approve", owner, next); err != nil {
		return 0, err
	}
	info.approvedAt = next
	if info.supersedes != nil {
		if err := g.k.step(info.supersedes, "supersede", owner, next+1); err != nil {
			return 0, err
		}
	}
	return next, nil
}

// line writes a document line: version 1 from start, then with probability
// again a newer version some months after each approval, and with probability
// draft a late revision near the epoch (draft 1: one that stays in draft).
func (g *ctrlGen) line(l docLine, start int64, again, draft float64) error {
	h := g.w.holders[l.p.Code]
	r := g.w.R
	mgr := pick(r, h.managers)
	cur, info, err := g.newDoc(l, 1, nil, mgr, start)
	if err != nil {
		return err
	}
	approved, err := g.review(cur, info, mgr, h.owner, start)
	if err != nil || approved == 0 {
		return err
	}
	v := int64(1)
	for r.Float64() < again {
		at := approved + g.days(150, 400)
		if at >= EpochMillis-60*day {
			break
		}
		next, ninfo, err := g.newDoc(l, v+1, cur, mgr, at)
		if err != nil {
			return err
		}
		done, err := g.review(next, ninfo, mgr, h.owner, at)
		if err != nil || done == 0 {
			return err // the new version is still in the making
		}
		cur, v, approved = next, v+1, done
	}
	if draft == 1 {
		// A revision that stays in draft: every process has one in the making.
		if at := EpochMillis - g.days(1, 45); at > approved {
			_, _, err := g.newDoc(l, v+1, cur, mgr, at)
			return err
		}
	}
	if r.Float64() < draft {
		// A late revision, which may still be in review or wait for the owner's approval.
		if at := EpochMillis - g.days(5, 60); at > approved {
			next, ninfo, err := g.newDoc(l, v+1, cur, mgr, at)
			if err != nil {
				return err
			}
			_, err = g.review(next, ninfo, mgr, h.owner, at)
			return err
		}
	}
	return nil
}

// documents writes a process's framework documents: its policy, procedures
// for its busiest activities, its KPI definitions and, for some, a tool requirement.
func (g *ctrlGen) documents(p *framework.Process, rank int) error {
	r := g.w.R
	start := EpochMillis - window
	policy := docLine{p: p, kind: controls.Policy, title: p.Name + " policy",
		desc: fmt.Sprintf("Policy and standards of %s (DESMF %s).", p.Name, p.Section),
		body: func(v int64) string { return policyBody(p, v) }}
	if err := g.line(policy, start+g.days(0, 60), 0.5, 0.2); err != nil {
		return err
	}
	var specific []*framework.Activity
	for _, a := range p.Activities() {
		if a.Control == "" {
			specific = append(specific, a)
		}
	}
	n := min(len(specific), 2)
	if rank < 8 {
		n = min(len(specific), 3)
	}
	for i, a := range specific[:n] {
		l := docLine{p: p, kind: controls.Procedure, title: p.Name + " procedure: " + a.Name,
			desc: fmt.Sprintf("How to perform %s, %s.", a.Code, a.Name),
			body: func(v int64) string { return procedureBody(p, a, v) }}
		draft := 0.3
		if i == n-1 {
			draft = 1 // every process has a procedure revision in the making
		}
		if err := g.line(l, start+g.days(20, 300), 0.3, draft); err != nil {
			return err
		}
	}
	ks := kpis(p)
	for _, kp := range ks[:min(len(ks), 2+r.IntN(2))] {
		kpi := &controls.KPI{Unit: kp.unit, Target: kp.target, Direction: kp.direction, Frequency: kp.frequency}
		better := "higher is better"
		if kp.direction == controls.LowerIsBetter {
			better = "lower is better"
		}
		body := fmt.Sprintf("%s, measured %s in %s; the target is %g %s (%s).", kp.name, kp.frequency, p.Name, kp.target, kp.unit, better)
		l := docLine{p: p, kind: controls.KPIDefinition, title: kp.name, desc: "KPI definition of " + p.Name + ".",
			body: func(int64) string { return body }, kpi: kpi}
		at := start + g.days(30, 400)
		if r.Float64() < 0.2 {
			at = EpochMillis - g.days(5, 60)
		}
		if err := g.line(l, at, 0.1, 0); err != nil {
			return err
		}
	}
	if r.Float64() < 0.5 {
		topic := pick(r, toolTopics())
		l := docLine{p: p, kind: controls.ToolRequirement, title: p.Name + " tool requirement: " + topic,
			desc: "A technology need of " + p.Name + ".",
			body: func(int64) string {
				return fmt.Sprintf("The %s process needs %s so that its records move without manual handoffs.", p.Name, topic)
			}}
		if r.Float64() < 0.2 {
			h := g.w.holders[p.Code]
			mgr := pick(r, h.managers)
			at := start + g.days(100, 600)
			d, _, err := g.newDoc(l, 1, nil, mgr, at)
			if err != nil {
				return err
			}
			return g.k.step(d, "withdraw", mgr, at+g.days(1, 30))
		}
		return g.line(l, start+g.days(100, 600), 0, 0)
	}
	return nil
}

// severityMix is low, medium, high and critical findings.
func severityMix() Discrete { return NewDiscrete([]float64{40, 35, 20, 5}) }

// findings writes Plan.Findings findings over the processes with a Monitor
// control, the busy ones taking most (a Zipf long tail), each with its
// corrective actions carried as far as the epoch allows.
func (g *ctrlGen) findings(ranked []*framework.Process) error {
	w, r := g.w, g.w.R
	var eligible []*framework.Process
	for _, p := range ranked {
		if _, err := record.ControlActivity(w.Model, p.Code, framework.ControlMonitor); err == nil {
			eligible = append(eligible, p)
		}
	}
	where, sev, tpls := Zipf(len(eligible), 1), severityMix(), findingTemplates()
	started, finished := LogNormalFromMedianP90(3, 15), LogNormalFromMedianP90(14, 90)
	for range w.Plan.Findings {
		p := eligible[where.Sample(r)]
		h := w.holders[p.Code]
		actors := slices.Concat(h.analysts, h.managers)
		by, mgr := pick(r, actors), pick(r, h.managers)
		t0 := EpochMillis - window + r.Int64N(window-day)
		tpl := pick(r, tpls)
		count := 3 + r.IntN(40)
		info := struct {
			sev controls.Severity
			obs string
		}{controls.Severities[sev.Sample(r)], fmt.Sprintf(tpl.observation, p.Name, count)}
		f := g.k.create(controls.FindingType, p.Code, fmt.Sprintf(tpl.title, p.Name), "Found by "+p.Code+" monitoring.",
			marking(p), by, t0)
		f.own = func(f *rec) error { return w.add("control_findings", f.id, string(info.sev), info.obs) }
		t := t0 + g.days(0.5, 5)
		var acts []*action
		for j := range min(1+Poisson(r, 0.6), 3) {
			if t >= EpochMillis {
				break
			}
			a := &action{rec: f, description: tpl.actions[j%len(tpl.actions)], owner: pick(r, w.staff),
				due: dayOf(t + g.days(14, 90)), status: string(controls.ActionOpen), created: t, update: t, seq: j}
			acts = append(acts, a)
			g.k.acts = append(g.k.acts, a)
			g.k.change(f, by, t, func() []string { return []string{fmt.Sprintf("correctiveActions[#%d].added", a.id)} })
			t += g.days(0.1, 2)
		}
		plan := t + g.days(0.1, 3)
		if len(acts) == 0 || plan >= EpochMillis {
			continue
		}
		if err := g.k.step(f, "plan", by, plan); err != nil {
			return err
		}
		lastDone, done, open := int64(0), 0, 0
		for _, a := range acts {
			if r.Float64() < 0.05 {
				if at := plan + g.days(1, 20); at < EpochMillis {
					a.status, a.update = string(controls.ActionCancelled), at
					g.k.change(f, mgr, at, func() []string { return []string{fmt.Sprintf("correctiveActions[#%d].status", a.id)} })
					continue
				}
			}
			s := plan + int64(started.Sample(r)*float64(day))
			e := s + int64(finished.Sample(r)*float64(day))
			if r.Float64() < 0.1 {
				e = EpochMillis // stalled: its owner never finishes it
			}
			if s < EpochMillis {
				a.status, a.update = string(controls.ActionInProgress), s
				g.k.change(f, a.owner, s, func() []string { return []string{fmt.Sprintf("correctiveActions[#%d].status", a.id)} })
			}
			if e < EpochMillis {
				a.status, a.update, a.completed = string(controls.ActionDone), e, e
				a.note = "Completed; the evidence is attached to the finding."
				g.k.change(f, a.owner, e, func() []string {
					return []string{fmt.Sprintf("correctiveActions[#%d].status", a.id), fmt.Sprintf("correctiveActions[#%d].note", a.id)}
				})
				done++
				lastDone = max(lastDone, e)
				continue
			}
			if a.status != string(controls.ActionCancelled) {
				open++
			}
		}
		if open == 0 && done > 0 {
			if at := lastDone + g.days(1, 10); at < EpochMillis {
				if err := g.k.step(f, "close", mgr, at); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// dayOf is midnight UTC of the day of ms, as due dates are stored.
func dayOf(ms int64) int64 {
	y, m, d := msTime(ms).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).UnixMilli()
}

// evaluations writes a process's quarterly performance evaluations: drafted
// after each quarter by a manager, submitted, and accepted by the owner; the
// less busy processes skip some quarters.
func (g *ctrlGen) evaluations(p *framework.Process, rank int) error {
	w, r := g.w, g.w.R
	h := w.holders[p.Code]
	ks := kpis(p)
	start := msTime(EpochMillis - window)
	q := time.Date(start.Year(), time.Month((int(start.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	for {
		q = q.AddDate(0, 3, 0) // the first day after a quarter
		qe := q.UnixMilli()
		if qe > EpochMillis {
			return nil
		}
		if rank >= 10 && r.Float64() < 0.3 {
			continue
		}
		t := qe + g.days(10, 75)
		if t >= EpochMillis {
			return nil
		}
		period := fiscalQuarter(qe - day)
		var ms []controls.Measurement
		var missed []string
		for _, kp := range ks[:min(len(ks), 4)] {
			v := kp.target * (0.85 + r.Float64()*0.25)
			if kp.direction == controls.LowerIsBetter {
				v = kp.target*(0.6+r.Float64()*0.9) + r.Float64()
			}
			if kp.unit == "%" {
				v = math.Min(v, 100)
			}
			v = math.Round(v*10) / 10
			target := kp.target
			m := controls.Measurement{Name: kp.name, Value: v, Unit: kp.unit, Target: &target, Direction: kp.direction}
			if kp.direction == controls.LowerIsBetter && v > target || kp.direction == controls.HigherIsBetter && v < target {
				missed = append(missed, fmt.Sprintf("%s %g %s against %g", kp.name, v, kp.unit, target))
			}
			ms = append(ms, m)
		}
		var fb []controls.Feedback
		for range 1 + r.IntN(3) {
			fb = append(fb, controls.Feedback{Source: pick(r, feedbackSources()), Text: pick(r, feedbackTexts())})
		}
		var ini []controls.Initiative
		for i := range min(len(missed), 2) {
			ini = append(ini, controls.Initiative{Title: initiativeTitles()[(rank+i)%len(initiativeTitles())],
				Priority: []string{"high", "medium"}[i]})
		}
		row, err := evalRow(period, fb, ms, gapAnalysis(p, missed), ini)
		if err != nil {
			return err
		}
		mgr := pick(r, h.managers)
		e := g.k.create(controls.EvaluationType, p.Code, p.Name+" performance evaluation "+period,
			"Quarterly evaluation of "+p.Name+".", marking(p), mgr, t)
		e.own = func(e *rec) error {
			return w.add("control_evaluations", e.id, row[0], row[1], row[2], row[3], row[4])
		}
		if t += g.days(5, 30); t >= EpochMillis {
			continue
		}
		if err := g.k.step(e, "submit", mgr, t); err != nil {
			return err
		}
		if r.Float64() < 0.1 {
			if t += g.days(1, 5); t >= EpochMillis {
				continue
			}
			if err := g.k.step(e, "rework", h.owner, t); err != nil {
				return err
			}
			if t += g.days(1, 5); t >= EpochMillis {
				continue
			}
			if err := g.k.step(e, "submit", mgr, t); err != nil {
				return err
			}
		}
		if t += g.days(3, 30); t < EpochMillis {
			if err := g.k.step(e, "accept", h.owner, t); err != nil {
				return err
			}
		}
	}
}

// evalRow encodes an evaluation's own fields as the controls store does.
func evalRow(period string, fb []controls.Feedback, ms []controls.Measurement, gap string, in []controls.Initiative) ([5]any, error) {
	var out [5]any
	if fb == nil {
		fb = []controls.Feedback{}
	}
	if in == nil {
		in = []controls.Initiative{}
	}
	b1, err := json.Marshal(fb)
	if err != nil {
		return out, err
	}
	b2, err := json.Marshal(ms)
	if err != nil {
		return out, err
	}
	b3, err := json.Marshal(in)
	if err != nil {
		return out, err
	}
	return [5]any{period, string(b1), string(b2), gap, string(b3)}, nil
}
