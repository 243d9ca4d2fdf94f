package chain

// Level is the severity a chain has reached.
type Level uint8

// Levels, in escalation order.
const (
	None Level = iota
	Medium
	High
	Critical
)

var (
	levelNames = [...]string{"none", "medium", "high", "critical"}
	levelCases = [...]string{"", "Active Cryptomining", "Persistent Cryptomining", "Advanced Cryptomining Operation"}
)

// String returns the lower-case severity name (`cryptochain.finding.severity`).
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "unknown"
}

// Case returns the case name of the seed rule ("Active Cryptomining", ...).
func (l Level) Case() string {
	if int(l) < len(levelCases) {
		return levelCases[l]
	}
	return ""
}
