package evidence

// Rank orders evidence by how much it tells: a success over a failed attempt, a strong item over a
// weak one. A bounded store of evidence keeps the higher rank when it must choose, so neither weak
// nor failed-attempt evidence can ever displace strong evidence.
func Rank(e *Evidence) int {
	r := 0
	if !e.Failed {
		r += 2
	}
	if e.Strength == Strong {
		r++
	}
	if !e.Failed && e.Strength == Strong {
		r++ // a strong success outranks everything else, whatever is added to the scale later
	}
	return r
}

// SameIndicator reports whether a and b are the same observation (same group, kind, indicator,
// path, endpoint and outcome): a repeat is counted, not stored again.
func SameIndicator(a, b *Evidence) bool {
	return a.Group == b.Group && a.Kind == b.Kind && a.Indicator == b.Indicator && a.Path == b.Path &&
		a.Endpoint == b.Endpoint && a.Failed == b.Failed
}
