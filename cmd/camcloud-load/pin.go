package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// parseCPUList parses a CPU list as taskset(1) takes it ("0", "0-3",
// "0,2-3") into CPU numbers below ncpu.
func parseCPUList(s string, ncpu int) ([]int, error) {
	var cpus []int
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b >= ncpu {
			return nil, fmt.Errorf("%q is not a CPU list of CPUs 0..%d", s, ncpu-1)
		}
		for c := a; c <= b; c++ {
			if !seen[c] {
				seen[c] = true
				cpus = append(cpus, c)
			}
		}
	}
	return cpus, nil
}

// pinning keeps the server and the simulated cameras on separate CPUs, so
// that the server's figures are those of a server whose CPUs run nothing
// else, as if the cameras were on another machine.
type pinning struct {
	server string // CPU list of the server, for taskset
	sim    unix.CPUSet
}

// newPinning returns nil when list is empty.
func newPinning(list string) (*pinning, error) {
	if list == "" {
		return nil, nil
	}
	ncpu := runtime.NumCPU()
	cpus, err := parseCPUList(list, ncpu)
	if err != nil {
		return nil, err
	}
	p := &pinning{server: list}
	taken := map[int]bool{}
	for _, c := range cpus {
		taken[c] = true
	}
	for c := 0; c < ncpu; c++ {
		if !taken[c] {
			p.sim.Set(c)
		}
	}
	if p.sim.Count() == 0 {
		return nil, fmt.Errorf("%q leaves no CPU for the simulated cameras", list)
	}
	return p, nil
}

// pinSelf moves every thread of this process (the simulated cameras) to
// the CPUs the server does not use; threads started later inherit it.
func (p *pinning) pinSelf() error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &p.sim); err != nil {
			return fmt.Errorf("pinning thread %d: %w", tid, err)
		}
	}
	return nil
}

// command returns the command line that starts bin with args on the
// server's CPUs (taskset(1) execs bin, which keeps taskset's process ID).
func (p *pinning) command(bin string, args []string) (string, []string) {
	if p == nil {
		return bin, args
	}
	return "taskset", append([]string{"-c", p.server, bin}, args...)
}
