package gen

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// genPeople writes the accounts, the assignment groups with power-law sizes
// and a long tail of names, their memberships, and the platform roles of staff.
func genPeople(ctx context.Context, w *World) error {
	if err := genUsers(w); err != nil {
		return err
	}
	if err := genTeams(w); err != nil {
		return err
	}
	return genPlatformRoles(w)
}

// genUsers writes Plan.Users accounts with common names drawn from a long tail.
// About 2 % are disabled (people who left). Generated accounts have no
// password: they sign in through SSO, or an administrator sets one.
func genUsers(w *World) error {
	r := w.R
	firsts, lasts := lines(firstNamesText, " "), lines(lastNamesText, " ")
	pickFirst, pickLast := Zipf(len(firsts), 0.7), Zipf(len(lasts), 0.8)
	// taken counts the accounts per base name; a base taken twice numbers the next one.
	taken := map[string]int{}
	w.users = make([]user, 0, w.Plan.Users)
	for range w.Plan.Users {
		first, last := firsts[pickFirst.Sample(r)], lasts[pickLast.Sample(r)]
		middle := string(rune('a' + r.IntN(26)))
		base := strings.ToLower(first + "." + last)
		name := base
		if taken[base] > 0 {
			name = strings.ToLower(first + "." + middle + "." + last)
		}
		for taken[name] > 0 {
			taken[base]++
			name = fmt.Sprintf("%s%d", base, taken[base])
		}
		taken[name]++
		if name != base {
			taken[base]++
		}
		u := user{id: w.nextID("users"), username: name, disabled: r.Float64() < 0.02}
		created := EpochMillis - 3*365*day + r.Int64N(3*365*day-day)
		updated, lastLogin := created, int64(0)
		if u.disabled {
			updated = created + r.Int64N(EpochMillis-created)
		} else if r.Float64() < 0.7 {
			lastLogin = EpochMillis - r.Int64N(90*day)
		}
		display := first + " " + strings.ToUpper(middle) + ". " + last
		if err := w.add("users", u.id, u.username, display, name+"@example.org", "", false, u.disabled, false,
			lastLogin, created, updated); err != nil {
			return err
		}
		w.users = append(w.users, u)
	}
	return nil
}

// genTeams writes Plan.Teams assignment groups and puts Plan.Staff enabled
// users in them. A group's share of the staff follows a power law (a few large
// service desks, a long tail of small specialist groups); a fifth of the staff
// belong to a second group, and every group has at least one member.
func genTeams(w *World) error {
	r := w.R
	for i, u := range w.users {
		if !u.disabled && len(w.staff) < w.Plan.Staff {
			w.staff = append(w.staff, i)
		}
	}
	r.Shuffle(len(w.staff), func(i, j int) { w.staff[i], w.staff[j] = w.staff[j], w.staff[i] })
	weights := make([]float64, w.Plan.Teams)
	for i := range weights {
		weights[i] = min(Pareto{Xm: 1, Alpha: 1.2}.Sample(r), 300)
	}
	slices.SortFunc(weights, func(a, b float64) int { return cmp.Compare(b, a) })
	funcs, sites := lines(teamFunctionsText, "|"), lines(sitesText, "|")
	pickFunc := Zipf(len(funcs), 0.9)
	taken := map[string]bool{}
	w.teams = make([]team, w.Plan.Teams)
	for i := range w.teams {
		f, site := funcs[pickFunc.Sample(r)], sites[r.IntN(len(sites))]
		if i == 0 {
			f, site = funcs[0], sites[0] // the largest group is the headquarters service desk
		}
		name := f + " - " + site
		for _, tier := range []string{" Tier 2", " Tier 3"} {
			if taken[name] {
				name = f + " - " + site + tier
			}
		}
		for k := 2; taken[name]; k++ {
			name = fmt.Sprintf("%s - %s %d", f, site, k)
		}
		taken[name] = true
		created := EpochMillis - 3*365*day + r.Int64N(365*day)
		w.teams[i] = team{id: w.nextID("teams"), name: name}
		desc := fmt.Sprintf("Assignment group for %s at %s.", strings.ToLower(f[:1])+f[1:], site)
		if err := w.add("teams", w.teams[i].id, name, desc, slug(name)+"@example.org", created, created); err != nil {
			return err
		}
	}
	pick := NewDiscrete(weights)
	join := func(ui, ti int) {
		if slices.Contains(w.users[ui].teams, ti) {
			return
		}
		w.users[ui].teams = append(w.users[ui].teams, ti)
		w.teams[ti].members = append(w.teams[ti].members, ui)
	}
	for _, ui := range w.staff {
		join(ui, pick.Sample(r))
		if r.Float64() < 0.2 {
			join(ui, pick.Sample(r))
		}
	}
	for ti := range w.teams {
		if len(w.teams[ti].members) == 0 {
			join(w.staff[r.IntN(len(w.staff))], ti)
		}
	}
	for _, t := range w.teams {
		members := slices.Clone(t.members)
		slices.Sort(members)
		for _, ui := range members {
			if err := w.add("team_members", t.id, w.users[ui].id); err != nil {
				return err
			}
		}
	}
	return nil
}

// genPlatformRoles gives staff the built-in Agent role, the first member of
// each group of three or more the Team manager role, and a few staff the
// Auditor and Integrator roles.
func genPlatformRoles(w *World) error {
	r := w.R
	type pair struct{ user, role int64 }
	seen := map[pair]bool{}
	grant := func(ui int, role string) error {
		id, ok := w.roles[role]
		p := pair{w.users[ui].id, id}
		if !ok || seen[p] {
			return nil
		}
		seen[p] = true
		return w.add("user_roles", p.user, p.role)
	}
	for _, ui := range w.staff {
		if err := grant(ui, "Agent"); err != nil {
			return err
		}
	}
	for _, t := range w.teams {
		if len(t.members) >= 3 {
			if err := grant(t.members[0], "Team manager"); err != nil {
				return err
			}
		}
	}
	for range max(2, len(w.staff)/200) {
		if err := grant(w.staff[r.IntN(len(w.staff))], "Auditor"); err != nil {
			return err
		}
	}
	return grant(w.staff[r.IntN(len(w.staff))], "Integrator")
}
