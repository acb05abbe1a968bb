package main

import (
	"fmt"
	"os"
)

// sim is filled in with the recording work (internal/sim).
func sim(args []string) int {
	fmt.Fprintln(os.Stderr, "camcloud sim: not available in this build yet")
	return 2
}
