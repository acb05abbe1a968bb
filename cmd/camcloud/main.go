// Command camcloud is the one binary of camcloud: `serve` runs the service,
// `sim` runs simulated cameras, `agent` a site's edge agent, `audit verify` checks the audit chain,
// `evidence public-key` and `evidence verify` print the evidence key and
// check an export package, `admin reset-password` gives an account a new
// password, `data export` runs the analytics data export and `version`
// prints the build.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:])
	case "sim":
		return simCmd(args[1:])
	case "agent":
		return agentCmd(args[1:])
	case "audit":
		return auditCmd(args[1:])
	case "evidence":
		return evidenceCmd(args[1:])
	case "admin":
		return adminCmd(args[1:], os.Stdout)
	case "data":
		return dataCmd(args[1:], os.Stdout)
	case "version", "--version", "-v":
		fmt.Println("camcloud", version)
		return 0
	case "help", "-h", "--help":
		usage()
		return 0
	}
	fmt.Fprintf(os.Stderr, "camcloud: unknown command %q\n\n", args[0])
	usage()
	return 2
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: camcloud <command> [flags]

commands:
  serve         run camcloud (all roles in one process by default)
  sim           run simulated cameras against a camcloud API
  agent         run a site's edge agent (--config agent.yaml)
  audit verify  check the audit log's hash chain
  evidence public-key
                print the deployment's evidence public key (PEM)
  evidence verify PACKAGE (--public-key FILE | --server URL)
                check an evidence package's signature and video offline
  admin reset-password EMAIL
                give an account a new password (printed once, audited)
  data export   export the databases to Parquet per audience (export.audiences)
  version       print the version

Run "camcloud <command> -h" for the flags of a command. Every flag can also be
set as CAMCLOUD_<FLAG> (e.g. CAMCLOUD_DATA_DIR) or in the --config YAML file.
`)
}

// flagError reports a command's flag error and its exit code: 0 for -h
// (the flag package printed the usage), 2 otherwise.
func flagError(cmd string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(os.Stderr, cmd+":", err)
	return 2
}
