package gen

import (
	"math"
	"math/rand/v2"
	"sort"
)

// The samplers below are pure: each takes the caller's random source and
// returns a value, with no state of its own. Their parameters come from real
// service desks: a published ServiceNow incident event log (UCI "Incident
// management process enriched event log", about 25,000 incidents) and the BPI
// Challenge 2014 ITSM data (Rabobank, about 46,000 incidents).
//
// All are in use: Discrete, Zipf, Pareto, LogNormal (FromMedianP90) and
// Poisson by every generator; PriorityMix, ResolutionHours and Reassignments
// by the incident generator.

// Discrete draws an index 0…n-1 with probability proportional to its weight.
type Discrete struct {
	cum []float64
}

// NewDiscrete returns the distribution with these weights; negative weights count as 0.
func NewDiscrete(weights []float64) Discrete {
	cum := make([]float64, len(weights))
	sum := 0.0
	for i, w := range weights {
		if w > 0 {
			sum += w
		}
		cum[i] = sum
	}
	return Discrete{cum: cum}
}

// Len is the number of outcomes.
func (d Discrete) Len() int { return len(d.cum) }

// Sample draws one index; it returns 0 when every weight is zero.
func (d Discrete) Sample(r *rand.Rand) int {
	if len(d.cum) == 0 || d.cum[len(d.cum)-1] <= 0 {
		return 0
	}
	x := r.Float64() * d.cum[len(d.cum)-1]
	return sort.Search(len(d.cum), func(i int) bool { return d.cum[i] > x })
}

// Zipf is the long tail of a catalogue of n items (categories, assignment
// groups, processes): item k, counted from 0, has weight 1/(k+1)^s. With s
// near 1 a few items take most of the volume and most items are rare.
func Zipf(n int, s float64) Discrete {
	w := make([]float64, n)
	for k := range w {
		w[k] = 1 / math.Pow(float64(k+1), s)
	}
	return NewDiscrete(w)
}

// Pareto is the power law P(X > x) = (Xm/x)^Alpha for x ≥ Xm: team sizes now,
// the fan-out of configuration items in the CI graph later.
type Pareto struct {
	// Xm is the smallest value.
	Xm float64
	// Alpha is the tail exponent; the smaller, the heavier the tail.
	Alpha float64
}

// Sample draws one value by inverting the distribution function.
func (p Pareto) Sample(r *rand.Rand) float64 {
	u := 1 - r.Float64() // in (0, 1]
	return p.Xm / math.Pow(u, 1/p.Alpha)
}

// Int draws a whole number: the sample's floor, at most limit (for counts such as a
// CI's fan-out; waiting for the CMDB generator).
func (p Pareto) Int(r *rand.Rand, limit int) int {
	v := p.Sample(r)
	if v >= float64(limit) {
		return limit
	}
	return int(v)
}

// LogNormal is a distribution whose logarithm is normal with mean Mu and
// standard deviation Sigma: durations such as time to resolve.
type LogNormal struct {
	Mu, Sigma float64
}

// z90 is the standard normal distribution's 90th percentile.
const z90 = 1.2815515655446004

// LogNormalFromMedianP90 is the log-normal distribution with this median and
// 90th percentile: Mu = ln(median) and Sigma = ln(p90/median) / z90.
func LogNormalFromMedianP90(median, p90 float64) LogNormal {
	return LogNormal{Mu: math.Log(median), Sigma: math.Log(p90/median) / z90}
}

// Sample draws one value.
func (l LogNormal) Sample(r *rand.Rand) float64 {
	return math.Exp(l.Mu + l.Sigma*r.NormFloat64())
}

// Quantile is the value below which a share q (0 < q < 1) of draws fall.
func (l LogNormal) Quantile(q float64) float64 {
	return math.Exp(l.Mu + l.Sigma*math.Sqrt2*math.Erfinv(2*q-1))
}

// Poisson draws a count with this mean (Knuth's method; for small means).
func Poisson(r *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	limit, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= r.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

// PriorityMix is the share of incident priorities 1 to 4 in real service
// desks: about 2 % P1, 4 % P2, 85 % P3 and 9 % P4. Sample returns an index
// 0–3; add 1 for the priority class (the incident generator maps it onto the
// cells of the priority matrix).
func PriorityMix() Discrete { return NewDiscrete([]float64{2, 4, 85, 9}) }

// ResolutionHours is the time to resolve an incident, in hours: log-normal
// with a median of 54 h and a 90th percentile of 760 h (so Sigma ≈ 2.06 and
// the mean ≈ 450 h).
func ResolutionHours() LogNormal { return LogNormalFromMedianP90(54, 760) }

// Reassignments draws how often an incident changes assignment group: 56 %
// never, 23 % once, 10 % twice, the rest three times or more.
func Reassignments(r *rand.Rand) int {
	// P(0), P(1), P(2); the remaining 11 % are three or more, in a geometric
	// tail that halves with each further reassignment.
	head := [3]float64{0.56, 0.23, 0.10}
	u := r.Float64()
	for k, p := range head {
		if u < p {
			return k
		}
		u -= p
	}
	n := 3
	for r.Float64() < 0.5 && n < 30 {
		n++
	}
	return n
}
