package classify

// Evidence kinds this package emits (evidence.Evidence.Kind), with the group and strength:
//
// Miner:
//   - KindPoolURL "pool_url": stratum URL on the command line (strong); a bare host:port after
//     -o/--url (strong with other miner evidence or a known pool host, weak alone).
//   - KindWallet "wallet": validated wallet next to a user/wallet flag or in a pool URL login, or a
//     Monero address with other miner evidence (strong); a bare Monero address argument alone (weak).
//   - KindAlgorithm "algorithm": known algorithm after -a/--algo (strong with a miner flag, URL,
//     wallet or miner name; weak alone).
//   - KindMinerFlag "miner_flag": miner-only flags (strong when ≥ 2 distinct or with a pool endpoint,
//     weak alone).
//   - KindMinerName "miner_name": executable/argv[0]/comm is a known miner name (weak).
//   - KindBase64 "base64": a base64 argument decoding to a stratum URL, wallet or miner flag (strong).
//   - KindEnv "env": an environment value holding a stratum URL or a wallet (strong).
//   - KindEnvName "env_name": a miner environment variable name (weak).
//   - KindPattern "pattern": an ExtraPatterns match in argv or env (strong).
//   - KindMasquerade "masquerade": memfd/deleted executable, executable in /tmp, /var/tmp, /dev/shm
//     or a hidden directory, argv[0] unlike the executed file, kernel-thread-like name, rename to
//     such a name (weak; one kind for all, so masquerade alone never completes the group).
//   - KindRandomX "randomx_fpu": process.fpu_rounding with recurring non-default rounding mixed with
//     the default mode (strong; a single mode kept for every sample is scientific code, not RandomX).
//   - KindStratumLogin "stratum_login": network.payload is a mining protocol message (strong).
//   - KindMinerConfig "miner_config": process.config_file parses as a miner configuration (strong).
//
// Pool:
//   - KindPoolDomain "pool_domain": dns.query/dns.answer for a pool domain or subdomain, or for the
//     host of a stratum URL seen on a command line (strong).
//   - KindPoolAddress "pool_address": network.connect to an address a DNS answer tied to a pool
//     domain (CNAMEs followed), or to an IP literal of a pool URL / miner proxy (strong).
//   - KindStratumPort "stratum_port": network.connect to a common stratum port (weak).
//   - KindStratumPayload "stratum_payload": network.payload is a mining protocol message (strong).
//   - KindProxy "proxy": -x/--proxy of a miner command line (weak; its endpoint is listed).
//   - KindRandomXConn "randomx_connection": a TCP connection of a process with RandomX behaviour,
//     before or after the behaviour was seen (weak; with the strong Miner evidence it completes Pool).
//
// Persistence (strong; Failed when the write failed): "cron", "anacron", "at", "systemd", "rc",
// "shell" (login and interactive shell startup files, XDG autostart), "custom" (configured paths) for writes under those locations (any
// write-like operation except unlink; package managers and systemd itself are skipped), with Command set
// from the captured content (the cron line, ExecStart or script line it will run), KindCrontab "crontab"
// (weak, no Path) for the crontab binary replacing a table ("crontab FILE", "crontab -", "crontab -u u
// FILE", "crontab -e"): the act is the spool write that follows, which carries the true path and result.
//
// Concealment (counted in no group): the Kind* constants of concealment.go.
//
// Optimization (attempts count, Failed or not): "msr" (strong: /dev/cpu/*/msr open, wrmsr, modprobe
// msr allow_writes=on, /sys/module/msr/parameters/allow_writes; weak: plain modprobe msr), "hugepages",
// "drop_caches", "cpu_governor", "nmi_watchdog" (strong), "config_tuning" (weak: miner config asks for
// 1 GB pages or wrmsr), "kill_miner" (strong: pkill/killall/process.kill of a known miner name),
// "kill" (weak: one SIGKILL/SIGTERM to another process; bursts are the chain's call).
const (
	KindPoolURL        = "pool_url"
	KindWallet         = "wallet"
	KindAlgorithm      = "algorithm"
	KindMinerFlag      = "miner_flag"
	KindMinerName      = "miner_name"
	KindBase64         = "base64"
	KindEnv            = "env"
	KindEnvName        = "env_name"
	KindPattern        = "pattern"
	KindMasquerade     = "masquerade"
	KindRandomX        = "randomx_fpu"
	KindStratumLogin   = "stratum_login"
	KindMinerConfig    = "miner_config"
	KindPoolDomain     = "pool_domain"
	KindPoolAddress    = "pool_address"
	KindStratumPort    = "stratum_port"
	KindStratumPayload = "stratum_payload"
	KindProxy          = "proxy"
	KindRandomXConn    = "randomx_connection"
	KindCrontab        = "crontab"
	KindMSR            = "msr"
	KindHugepages      = "hugepages"
	KindDropCaches     = "drop_caches"
	KindCPUGovernor    = "cpu_governor"
	KindNMIWatchdog    = "nmi_watchdog"
	KindConfigTuning   = "config_tuning"
	KindKillMiner      = "kill_miner"
	KindKill           = "kill"
)
