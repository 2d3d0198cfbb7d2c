#!/usr/bin/env bash
# vs-nfdump.sh: spotctl against Debian's nfdump on the same flows, measured
# in one run (issues 4 and 5; docs/performance.md quotes its output).
#
#   make bench-nfdump            # or: testdata/bench/vs-nfdump.sh [WORKDIR]
#
# Builds ~10 M flows: a synthetic capture (spotctl synth, seed 2) through
# nfpcapd into an nfcapd file, then COPIES hard links of it merged by nfdump
# into one file (the flows repeat; their distribution over addresses and
# ports is that of the synthetic network). spotctl ingests that nfcapd file,
# so both tools work on exactly the same records. Every timed command runs
# RUNS times on one core (taskset -c $CORE, default 0; GOMAXPROCS=1) after a warm-up, and
# the best wall time is kept. Needs nfdump, nfpcapd and taskset; about 3 GB
# of free disk in WORKDIR.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-${TMPDIR:-/tmp}/spotctl-vs-nfdump}
packets=${PACKETS:-1000000}
copies=${COPIES:-140}
runs=${RUNS:-3}
filter=${FILTER:-dst port 443 or bytes > 2k}

for tool in nfdump nfpcapd taskset; do
	command -v "$tool" >/dev/null || { echo "vs-nfdump: $tool not found (apt-get install nfdump util-linux)" >&2; exit 1; }
done
mkdir -p "$work"
spotctl="$work/spotctl"
(cd "$here" && CGO_ENABLED=0 go build -trimpath -o "$spotctl" ./cmd/spotctl)

if [ ! -s "$work/big.nfcapd" ]; then
	"$spotctl" synth --seed 2 --hosts 200 --packets "$packets" -o "$work/s.pcap" >&2
	rm -rf "$work/nf" "$work/copies" && mkdir -p "$work/nf" "$work/copies"
	nfpcapd -r "$work/s.pcap" -w "$work/nf" -e 300,60 >&2
	rm -f "$work/s.pcap"
	nfdump -R "$work/nf" -w "$work/one.nfcapd"
	for i in $(seq 1 "$copies"); do ln "$work/one.nfcapd" "$work/copies/nfcapd.20260302$(printf %04d "$i")"; done
	nfdump -R "$work/copies" -w "$work/big.nfcapd"
	# About 1 M flows for the CSV comparison (nfdump prints ~0.1 M/s).
	rm -rf "$work/copies" && mkdir -p "$work/copies"
	for i in $(seq 1 $(( (1000000 + $(nfdump -r "$work/one.nfcapd" -I | awk '/^Flows:/{print $2}') - 1) / $(nfdump -r "$work/one.nfcapd" -I | awk '/^Flows:/{print $2}') ))); do
		ln "$work/one.nfcapd" "$work/copies/nfcapd.20260302$(printf %04d "$i")"
	done
	nfdump -R "$work/copies" -w "$work/mid.nfcapd"
	rm -rf "$work/copies" "$work/nf"
fi
flows=$(nfdump -r "$work/big.nfcapd" -I | awk '/^Flows:/{print $2}')
midflows=$(nfdump -r "$work/mid.nfcapd" -I | awk '/^Flows:/{print $2}')

# best CMD...: the best wall seconds of $runs runs after one warm-up, on one core.
best() {
	local b="" t
	"$@" >/dev/null 2>&1 || true
	for _ in $(seq 1 "$runs"); do
		/usr/bin/time -f %e -o "$work/time" env GOMAXPROCS=1 taskset -c "${CORE:-0}" "$@" >/dev/null 2>&1 || true
		t=$(tail -1 "$work/time")
		if [ -z "$b" ] || awk -v a="$t" -v b="$b" 'BEGIN{exit !(a<b)}'; then b=$t; fi
	done
	echo "$b"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.1f", a/b; else print "inf" }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN{ if (s > 0) printf "%.2f", n/s/1e6; else print "inf" }'; }

rm -rf "$work/big.case" "$work/mid.case"
ingest=$(best sh -c "rm -rf '$work/big.case' && '$spotctl' ingest '$work/big.nfcapd' -o '$work/big.case'")
"$spotctl" ingest "$work/mid.nfcapd" -o "$work/mid.case" >/dev/null 2>&1
nfnull=$(best nfdump -r "$work/big.nfcapd" -o null)

echo "# spotctl vs nfdump $(nfdump -V 2>&1 | head -1 | awk '{print $NF}'), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, one core each"
echo
echo "$flows flows ($copies copies of $(nfdump -r "$work/one.nfcapd" -I | awk '/^Flows:/{print $2}') synthetic flows); filter: '$filter'"
echo
echo "| task | nfdump s | spotctl s | spotctl / nfdump speed |"
echo "|---|---|---|---|"
for s in srcip/bytes dstip/bytes dstport/bytes; do
	n=$(best nfdump -r "$work/big.nfcapd" -s "$s" -n 10 "$filter")
	p=$(best "$spotctl" stats "$work/big.case" -s "$s" -n 10 --format csv "$filter")
	echo "| filter + top-10 $s | $n | $p | $(ratio "$n" "$p")× |"
done
ncsv=$(best nfdump -r "$work/mid.nfcapd" -o csv)
p=$(best "$spotctl" flows "$work/mid.case" --format csv)
echo "| print $midflows flows as CSV | $ncsv | $p | $(ratio "$ncsv" "$p")× |"
echo "| read nfcapd (nfdump -o null) / ingest into a case | $nfnull | $ingest | $(ratio "$nfnull" "$ingest")× |"
echo
echo "ingest into a case: $(rate "$flows" "$ingest") M records/s; nfdump -o null: $(rate "$flows" "$nfnull") M records/s;" \
	"nfdump -o csv: $(rate "$midflows" "$ncsv") M records/s (ingest is $(ratio "$(rate "$flows" "$ingest")" "$(rate "$midflows" "$ncsv")")× that)"

# The same answers: nfdump's top-10 addresses equal spotctl's.
a=$(nfdump -r "$work/big.nfcapd" -s srcip/bytes -n 10 -o csv "$filter" | awk -F, 'NR>1 && $5 ~ /[0-9]/ {print $5}' | head -10)
b=$("$spotctl" stats "$work/big.case" -s srcip/bytes -n 10 --format csv --no-header --fields src_ip "$filter")
if [ "$a" != "$b" ]; then
	echo "warning: top-10 srcip/bytes differ between nfdump and spotctl" >&2
	diff <(echo "$a") <(echo "$b") >&2 || true
fi
