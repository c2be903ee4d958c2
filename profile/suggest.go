package profile

// editDistance is the optimal-string-alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// characters each cost 1, so "swithcport" is one edit from "switchport".
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b))
	}
	var rows [3][65]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// closestWord returns the candidate nearest to word, if it is near enough
// to be a plausible typo or abbreviation: a unique prefix, or at most one
// edit for short words and two for words of five letters or more.
func closestWord(word string, candidates []string) (string, bool) {
	best, bestD := "", 1<<30
	prefixOf, prefixes := "", 0
	for _, c := range candidates {
		if len(word) >= 2 && len(word) < len(c) && c[:len(word)] == word {
			if c != prefixOf {
				prefixes++
				prefixOf = c
			}
		}
		if d := editDistance(word, c); d < bestD {
			best, bestD = c, d
		}
	}
	if prefixes == 1 {
		return prefixOf, true
	}
	limit := 1
	if len(word) >= 5 {
		limit = 2
	}
	if len(word) < 3 {
		limit = 0
	}
	return best, bestD > 0 && bestD <= limit
}
