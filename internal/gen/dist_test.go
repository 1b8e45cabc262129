package gen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

const draws = 200_000

func testRand(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(42, stream)) }

// shares draws n indexes and returns the share of each outcome.
func shares(n, outcomes int, draw func() int) []float64 {
	c := make([]float64, outcomes)
	for range n {
		c[draw()]++
	}
	for i := range c {
		c[i] /= float64(n)
	}
	return c
}

func TestDiscreteShares(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		weights []float64
		want    []float64
	}{
		{"priority mix", []float64{2, 4, 85, 9}, []float64{0.02, 0.04, 0.85, 0.09}},
		{"even", []float64{1, 1, 1, 1}, []float64{0.25, 0.25, 0.25, 0.25}},
		{"zero and negative weights never drawn", []float64{0, 3, -1, 1}, []float64{0, 0.75, 0, 0.25}},
		{"one outcome", []float64{7}, []float64{1}},
	}
	for i, c := range cases {
		d := NewDiscrete(c.weights)
		r := testRand(uint64(i))
		got := shares(draws, d.Len(), func() int { return d.Sample(r) })
		for k := range got {
			if math.Abs(got[k]-c.want[k]) > 0.005 {
				t.Errorf("%s: share of %d = %.4f, want %.4f", c.name, k, got[k], c.want[k])
			}
		}
	}
	if got := NewDiscrete([]float64{0, 0}).Sample(testRand(9)); got != 0 {
		t.Errorf("all-zero weights drew %d, want 0", got)
	}
}

// TestPriorityMix checks the incident priorities of real desks: 2 % P1, 4 % P2, 85 % P3, 9 % P4.
func TestPriorityMix(t *testing.T) {
	t.Parallel()
	d, r := PriorityMix(), testRand(1)
	got := shares(draws, d.Len(), func() int { return d.Sample(r) })
	for k, want := range []float64{0.02, 0.04, 0.85, 0.09} {
		if math.Abs(got[k]-want) > 0.004 {
			t.Errorf("P%d share = %.4f, want %.2f ± 0.004", k+1, got[k], want)
		}
	}
}

func TestLogNormalFromMedianP90(t *testing.T) {
	t.Parallel()
	cases := []struct{ median, p90 float64 }{{54, 760}, {20 * 24, 90 * 24}, {1, 2}}
	for i, c := range cases {
		l := LogNormalFromMedianP90(c.median, c.p90)
		if q := l.Quantile(0.5); math.Abs(q-c.median)/c.median > 1e-9 {
			t.Errorf("median of %+v = %v, want %v", l, q, c.median)
		}
		if q := l.Quantile(0.9); math.Abs(q-c.p90)/c.p90 > 1e-9 {
			t.Errorf("p90 of %+v = %v, want %v", l, q, c.p90)
		}
		r := testRand(uint64(10 + i))
		xs := make([]float64, draws)
		for k := range xs {
			xs[k] = l.Sample(r)
		}
		slices.Sort(xs)
		if med := xs[draws/2]; math.Abs(med-c.median)/c.median > 0.03 {
			t.Errorf("sampled median %.2f, want %.2f ± 3 %%", med, c.median)
		}
		if p90 := xs[draws*9/10]; math.Abs(p90-c.p90)/c.p90 > 0.05 {
			t.Errorf("sampled p90 %.2f, want %.2f ± 5 %%", p90, c.p90)
		}
	}
}

// TestResolutionHours checks the figures: median 54 h, p90 760 h, so sigma ≈ 2.06.
func TestResolutionHours(t *testing.T) {
	t.Parallel()
	l := ResolutionHours()
	if math.Abs(l.Sigma-2.0635) > 0.001 || math.Abs(math.Exp(l.Mu)-54) > 1e-9 {
		t.Errorf("ResolutionHours = %+v, want mu = ln 54 and sigma ≈ 2.0635", l)
	}
}

func TestReassignments(t *testing.T) {
	t.Parallel()
	r := testRand(3)
	got := shares(draws, 31, func() int { return Reassignments(r) })
	more := 0.0
	for _, s := range got[3:] {
		more += s
	}
	for k, want := range []float64{0.56, 0.23, 0.10} {
		if math.Abs(got[k]-want) > 0.005 {
			t.Errorf("share reassigned %d times = %.4f, want %.2f", k, got[k], want)
		}
	}
	if math.Abs(more-0.11) > 0.005 || math.Abs(got[3]-0.055) > 0.005 {
		t.Errorf("three or more: %.4f (exactly three %.4f), want 0.11 (0.055)", more, got[3])
	}
}

func TestParetoTail(t *testing.T) {
	t.Parallel()
	cases := []Pareto{{Xm: 1, Alpha: 1.5}, {Xm: 2, Alpha: 2.5}, {Xm: 1, Alpha: 1.1}}
	for i, p := range cases {
		r := testRand(uint64(20 + i))
		above := map[float64]float64{}
		xs := []float64{p.Xm * 2, p.Xm * 5, p.Xm * 20}
		for range draws {
			v := p.Sample(r)
			if v < p.Xm {
				t.Fatalf("%+v drew %v below Xm", p, v)
			}
			for _, x := range xs {
				if v > x {
					above[x]++
				}
			}
		}
		for _, x := range xs {
			want := math.Pow(p.Xm/x, p.Alpha)
			got := above[x] / draws
			if math.Abs(got-want) > 0.004+0.05*want {
				t.Errorf("%+v: P(X > %v) = %.4f, want %.4f", p, x, got, want)
			}
		}
	}
	p, r := Pareto{Xm: 1, Alpha: 0.5}, testRand(30)
	for range 1000 {
		if v := p.Int(r, 50); v < 1 || v > 50 {
			t.Fatalf("Int drew %d outside [1, 50]", v)
		}
	}
}

func TestZipfLongTail(t *testing.T) {
	t.Parallel()
	d, r := Zipf(100, 1), testRand(4)
	got := shares(draws, d.Len(), func() int { return d.Sample(r) })
	h := 0.0
	for k := 1; k <= 100; k++ {
		h += 1 / float64(k)
	}
	for _, k := range []int{0, 1, 9, 99} {
		want := 1 / float64(k+1) / h
		if math.Abs(got[k]-want) > 0.003 {
			t.Errorf("share of item %d = %.4f, want %.4f", k, got[k], want)
		}
	}
	// The long tail: the top 10 % of items take about half of the volume, the bottom half under a fifth.
	top, bottom := 0.0, 0.0
	for k, s := range got {
		if k < 10 {
			top += s
		}
		if k >= 50 {
			bottom += s
		}
	}
	if top < 0.5 || top > 0.6 || bottom > 0.2 {
		t.Errorf("top 10 items %.3f, bottom 50 %.3f; want about 0.56 and under 0.2", top, bottom)
	}
}

func TestPoissonMean(t *testing.T) {
	t.Parallel()
	for i, mean := range []float64{0.65, 3, 10} {
		r := testRand(uint64(40 + i))
		sum, sq := 0.0, 0.0
		for range draws {
			v := float64(Poisson(r, mean))
			sum += v
			sq += v * v
		}
		m := sum / draws
		variance := sq/draws - m*m
		if math.Abs(m-mean) > 0.02*mean+0.01 || math.Abs(variance-mean) > 0.05*mean+0.01 {
			t.Errorf("Poisson(%v): mean %.3f, variance %.3f; want both %v", mean, m, variance, mean)
		}
	}
	if Poisson(testRand(50), 0) != 0 {
		t.Error("Poisson(0) drew a non-zero count")
	}
}

func TestSamplersAreDeterministic(t *testing.T) {
	t.Parallel()
	draw := func() []float64 {
		r := testRand(7)
		var out []float64
		for range 100 {
			out = append(out, float64(PriorityMix().Sample(r)), ResolutionHours().Sample(r), float64(Reassignments(r)),
				Pareto{Xm: 1, Alpha: 1.5}.Sample(r), float64(Zipf(30, 1.1).Sample(r)), float64(Poisson(r, 3)))
		}
		return out
	}
	if !slices.Equal(draw(), draw()) {
		t.Error("the same seed drew different values")
	}
}
