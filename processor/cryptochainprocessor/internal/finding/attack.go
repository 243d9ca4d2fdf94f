package finding

import "github.com/cryptochain-otel/cryptochain/processor/cryptochainprocessor/internal/evidence"

// Technique is a MITRE ATT&CK (Enterprise) technique or sub-technique.
type Technique struct {
	ID, Name string
}

// ATT&CK techniques the evidence and entry points map to.
var (
	compute      = Technique{"T1496.001", "Resource Hijacking: Compute Hijacking"}
	masquerading = Technique{"T1036", "Masquerading"}
	obfuscation  = Technique{"T1027", "Obfuscated Files or Information"}
	appProtocol  = Technique{"T1071", "Application Layer Protocol"}
	proxy        = Technique{"T1090", "Proxy"}
	cronJob      = Technique{"T1053.003", "Scheduled Task/Job: Cron"}
	atJob        = Technique{"T1053.002", "Scheduled Task/Job: At"}
	systemdUnit  = Technique{"T1543.002", "Create or Modify System Process: Systemd Service"}
	rcScripts    = Technique{"T1037.004", "Boot or Logon Initialization Scripts: RC Scripts"}
	ldPreload    = Technique{"T1574.006", "Hijack Execution Flow: Dynamic Linker Hijacking"}
	serviceStop  = Technique{"T1489", "Service Stop"}
)

// kindTechniques maps an evidence kind (package classify) to its technique where the kind alone
// decides it; other kinds take their group's technique (groupTechnique).
var kindTechniques = map[string]Technique{
	"masquerade":         masquerading,
	"base64":             obfuscation,
	"proxy":              proxy,
	"cron":               cronJob,
	"anacron":            cronJob,
	"crontab":            cronJob,
	"at":                 atJob,
	"systemd":            systemdUnit,
	"rc":                 rcScripts,
	"preload":            ldPreload,
	"kill_miner":         serviceStop,
	"kill":               serviceStop,
	"randomx_connection": appProtocol,
}

// TechniqueOf returns the ATT&CK technique of one evidence item; ok is false when none fits (a
// write to a custom persistence path names no mechanism).
func TechniqueOf(g evidence.Group, kind string) (Technique, bool) {
	if t, ok := kindTechniques[kind]; ok {
		return t, true
	}
	switch g {
	case evidence.Miner, evidence.Optimization:
		// Tuning the host (huge pages, MSR, governor) serves the same compute hijacking.
		return compute, true
	case evidence.Pool:
		return appProtocol, true
	}
	return Technique{}, false
}
