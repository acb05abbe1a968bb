package main

import (
	"reflect"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for _, c := range []struct {
		in   string
		ncpu int
		want []int
	}{
		{"0", 2, []int{0}},
		{"1", 2, []int{1}},
		{"0-3", 8, []int{0, 1, 2, 3}},
		{"0,2-3,2", 4, []int{0, 2, 3}},
		{" 1 ", 2, []int{1}},
		{"2", 2, nil},   // no such CPU
		{"1-0", 2, nil}, // backwards
		{"-1", 2, nil},
		{"a", 2, nil},
		{"", 2, nil},
		{"0,", 2, nil},
	} {
		got, err := parseCPUList(c.in, c.ncpu)
		if c.want == nil {
			if err == nil {
				t.Errorf("parseCPUList(%q, %d) = %v, want an error", c.in, c.ncpu, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseCPUList(%q, %d) = %v, %v, want %v", c.in, c.ncpu, got, err, c.want)
		}
	}
}

func TestPinningCommand(t *testing.T) {
	var none *pinning
	if name, args := none.command("/bin/camcloud", []string{"serve"}); name != "/bin/camcloud" || !reflect.DeepEqual(args, []string{"serve"}) {
		t.Errorf("without pinning: %s %v", name, args)
	}
	p := &pinning{server: "0"}
	name, args := p.command("/bin/camcloud", []string{"serve", "--demo"})
	if name != "taskset" || !reflect.DeepEqual(args, []string{"-c", "0", "/bin/camcloud", "serve", "--demo"}) {
		t.Errorf("pinned: %s %v", name, args)
	}
}

// FuzzParseCPUList: any input either fails or gives distinct CPUs that
// exist, and never panics.
func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"0", "0-3", "0,2-3", "1-0", "", ",", "-", "9999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		const ncpu = 8
		cpus, err := parseCPUList(s, ncpu)
		if err != nil {
			return
		}
		if len(cpus) == 0 {
			t.Fatalf("%q: no CPUs and no error", s)
		}
		seen := map[int]bool{}
		for _, c := range cpus {
			if c < 0 || c >= ncpu || seen[c] {
				t.Fatalf("%q: CPU %d out of range or repeated in %v", s, c, cpus)
			}
			seen[c] = true
		}
	})
}
