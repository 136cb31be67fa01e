// compose-check loads a Compose file the way `docker compose config` does, with compose-go (the library
// docker compose itself is built on): it interpolates variables, validates the file against the Compose
// specification's JSON schema, normalises it, checks its consistency (depends_on targets, declared volumes
// and networks, ...) and prints the resulting configuration as YAML. It exits non-zero on any error.
//
// It exists for machines without the `docker compose` plugin (tests/test_compose.py runs it when
// `docker compose` is missing). Build: `make compose-check` (needs Go).
//
//	compose-check [-profile NAME]... [-env-file FILE] [-q] [FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var profiles listFlag
	flag.Var(&profiles, "profile", "enable a profile (repeatable; \"*\" enables every profile)")
	envFile := flag.String("env-file", "", "variables for interpolation (default: .env beside the file, if any)")
	quiet := flag.Bool("q", false, "only validate, print nothing")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: compose-check [-profile NAME]... [-env-file FILE] [-q] [FILE]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 1 {
		flag.Usage()
		os.Exit(2)
	}
	file := "docker-compose.yml"
	if flag.NArg() == 1 {
		file = flag.Arg(0)
	}
	if err := run(file, profiles, *envFile, *quiet); err != nil {
		fmt.Fprintln(os.Stderr, "compose-check:", err)
		os.Exit(1)
	}
}

func run(file string, profiles []string, envFile string, quiet bool) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	opts := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithOsEnv,
		cli.WithProfiles(profiles),
		cli.WithResolvedPaths(true),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
	}
	if envFile != "" {
		opts = append(opts, cli.WithEnvFiles(envFile))
	} else {
		opts = append(opts, cli.WithEnvFiles())
	}
	opts = append(opts, cli.WithDotEnv)
	options, err := cli.NewProjectOptions([]string{abs}, opts...)
	if err != nil {
		return err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return err
	}
	// `docker compose up` refuses two services with the same container_name.
	if err := project.CheckContainerNameUnicity(); err != nil {
		return err
	}
	if quiet {
		return nil
	}
	out, err := project.MarshalYAML()
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}
