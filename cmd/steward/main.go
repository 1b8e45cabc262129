// Command steward is the Steward IT service management server and its admin tools.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"steward/internal/app"
	"steward/internal/platform/audit"
	"steward/internal/platform/errs"
)

const usage = `Steward: IT service management on the DoD Enterprise Service Management Framework.

Usage:
  steward serve [flags]                    run the server (default: SQLite in ./steward-data, 127.0.0.1:8080)
  steward migrate [flags]                  apply database migrations and exit
  steward version                          print the version
  steward user create NAME [--admin] [--email E] [--display-name N]
                                           create a user; the password is read from stdin
  steward user reset-password NAME [--must-change]
                                           set a user's password from stdin and end their sessions
  steward user disable NAME                disable a user and revoke their sessions and tokens
  steward token create --user NAME [--name N] [--expires 90d]
                                           issue an API token and print it once (--expires 0: never)
  steward token revoke ID|PREFIX           revoke an API token
  steward audit verify                     check the audit trail's hash chain
  steward backup FILE                      write a consistent copy of the database while it serves
  steward gen --scale N [--seed S]         generate a realistic organisation of N incidents' size into a fresh database
  steward import incidents --format servicenow [--as USER] FILE.csv
                                           import a ServiceNow incident export (again: no duplicates)
  steward demo                             load a demo organisation with three months of history into a fresh database
  steward sla recompute [--workers N]      recompute every record's SLA clocks from the audit trail (after gen, or to repair)

Every command takes the storage flags --data-dir and --database-url; run
"steward serve -h" for all server flags. Each flag has a STEWARD_* environment variable.
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "steward:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "migrate":
		return withApp(ctx, "migrate", rest, stderr, nil, func(a *app.App, _ *flag.FlagSet) error {
			fmt.Fprintln(stdout, "migrations applied")
			return nil
		})
	case "version":
		fmt.Fprintln(stdout, "steward", app.Version)
		return nil
	case "user":
		return userCmd(ctx, rest, stdin, stdout, stderr)
	case "token":
		return tokenCmd(ctx, rest, stdout, stderr)
	case "audit":
		if len(rest) == 0 || rest[0] != "verify" {
			return errors.New("usage: steward audit verify")
		}
		return withApp(ctx, "audit verify", rest[1:], stderr, nil, func(a *app.App, _ *flag.FlagSet) error {
			v, err := audit.Verify(ctx, a.DB)
			if err != nil {
				return err
			}
			if !v.OK {
				fmt.Fprintf(stdout, "audit trail ALTERED: first bad row is %d: %s (%d rows checked)\n", v.FirstBad, v.Problem, v.Rows)
				return fmt.Errorf("audit trail verification failed at row %d", v.FirstBad)
			}
			fmt.Fprintf(stdout, "audit trail intact: %d rows verified\n", v.Rows)
			return nil
		})
	case "backup":
		return backupCmd(ctx, rest, stdout, stderr)
	case "gen":
		return genCmd(ctx, rest, stdout, stderr)
	case "import":
		return importCmd(ctx, rest, stdout, stderr)
	case "demo":
		return demoCmd(ctx, rest, stdout, stderr)
	case "sla":
		return slaCmd(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg app.Config
	cfg.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel, stderr)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	pw, created, err := a.Auth.EnsureAdmin(ctx)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "\nFirst start: created the administrator account.\n  username: admin\n  password: %s\n"+
			"This password is shown only now; you must change it at first login.\n\n", pw)
	}
	return a.ListenAndServe(ctx, nil)
}

// withApp parses the storage flags (plus any declared by extra) and opens the app.
func withApp(ctx context.Context, name string, args []string, stderr io.Writer, extra func(fs *flag.FlagSet), fn func(a *app.App, fs *flag.FlagSet) error) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg app.Config
	cfg.BindFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(reorder(args)); err != nil {
		return err
	}
	cfg.LogLevel = "warn"
	a, err := app.Open(ctx, cfg, newLogger("warn", stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a, fs)
}

// reorder moves flags before positional arguments, so that "user create NAME --admin" works.
func reorder(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && !isBoolFlag(a) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func isBoolFlag(a string) bool {
	switch strings.TrimLeft(a, "-") {
	case "admin", "must-change", "json":
		return true
	}
	return false
}

func cliContext(ctx context.Context) context.Context {
	name := os.Getenv("USER")
	if name == "" {
		name = "unknown"
	}
	return audit.WithActor(ctx, audit.Actor{Type: "cli", Name: "cli:" + name})
}

func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on stdin")
	}
	return pw, nil
}

func describe(err error) error {
	if e, ok := errs.As(err); ok && len(e.Fields) > 0 {
		return fmt.Errorf("%s: %s", e.Message, e.Fields[0].Message)
	}
	return err
}

func userCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: steward user create|reset-password|disable NAME")
	}
	sub, rest := args[0], args[1:]
	var admin, mustChange bool
	var email, display string
	extra := func(fs *flag.FlagSet) {
		fs.BoolVar(&admin, "admin", false, "make the user an administrator")
		fs.BoolVar(&mustChange, "must-change", false, "force a password change at next login")
		fs.StringVar(&email, "email", "", "e-mail address")
		fs.StringVar(&display, "display-name", "", "display name")
	}
	return withApp(ctx, "user "+sub, rest, stderr, extra, func(a *app.App, fs *flag.FlagSet) error {
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: steward user %s NAME", sub)
		}
		name := fs.Arg(0)
		ctx := cliContext(ctx)
		switch sub {
		case "create":
			pw, err := readPassword(stdin)
			if err != nil {
				return err
			}
			u, err := a.Auth.CreateUser(ctx, authNewUser(name, display, email, pw, admin, mustChange))
			if err != nil {
				return describe(err)
			}
			fmt.Fprintf(stdout, "created user %s (id %d)\n", u.Username, u.ID)
		case "reset-password":
			u, err := a.Auth.UserByName(ctx, name)
			if err != nil {
				return err
			}
			pw, err := readPassword(stdin)
			if err != nil {
				return err
			}
			if err := a.Auth.SetPassword(ctx, u.ID, pw, mustChange); err != nil {
				return describe(err)
			}
			fmt.Fprintf(stdout, "password of %s set; their sessions have ended\n", u.Username)
		case "disable":
			u, err := a.Auth.UserByName(ctx, name)
			if err != nil {
				return err
			}
			if err := a.Auth.DisableUser(ctx, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "user %s disabled; sessions and tokens revoked\n", u.Username)
		default:
			return fmt.Errorf("unknown user command %q", sub)
		}
		return nil
	})
}

func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: steward token create|revoke")
	}
	sub, rest := args[0], args[1:]
	var user, name, expires string
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "the token's user")
		fs.StringVar(&name, "name", "cli", "what the token is for")
		fs.StringVar(&expires, "expires", "90d", "lifetime such as 90d or 12h; 0 for never")
	}
	return withApp(ctx, "token "+sub, rest, stderr, extra, func(a *app.App, fs *flag.FlagSet) error {
		ctx := cliContext(ctx)
		switch sub {
		case "create":
			if user == "" {
				return errors.New("usage: steward token create --user NAME [--expires 90d]")
			}
			ttl, err := parseLifetime(expires)
			if err != nil {
				return err
			}
			u, err := a.Auth.UserByName(ctx, user)
			if err != nil {
				return err
			}
			secret, _, err := a.Auth.CreateToken(ctx, u.ID, name, ttl)
			if err != nil {
				return describe(err)
			}
			fmt.Fprintln(stdout, secret)
		case "revoke":
			if fs.NArg() != 1 {
				return errors.New("usage: steward token revoke ID|PREFIX")
			}
			if err := a.Auth.RevokeToken(ctx, 0, fs.Arg(0)); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "token revoked")
		default:
			return fmt.Errorf("unknown token command %q", sub)
		}
		return nil
	})
}

// parseLifetime reads "90d", "12h", "30m" or "0".
func parseLifetime(s string) (time.Duration, error) {
	if s == "0" || s == "" {
		return 0, nil
	}
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("--expires %q: want a number of days such as 90d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--expires %q: want 90d, 12h or 0", s)
	}
	return d, nil
}
