package sigma

import "os"

func init() {
	if os.Getenv("SIGMA_NOMERGE") != "" {
		maxMerges = 0
	}
}
