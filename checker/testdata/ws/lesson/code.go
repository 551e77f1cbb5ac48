package lesson

// Work returns the answer.
func Work() int { return 42 }
