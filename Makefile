# spotctl — see README.md. Everything builds with CGO_ENABLED=0 (pure Go, static).
export CGO_ENABLED := 0
GO        ?= go
BIN       ?= bin/spotctl
FUZZTIME  ?= 10s
BENCHTIME ?= 1x
DEMO      ?= demo

.PHONY: all build test bench bench-nfdump demo fuzz lint clean eval

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/spotctl

# The test command of the README and of CI: vet, formatting, every test.
test: lint
	$(GO) test -count=1 ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Every benchmark once (BENCHTIME=5x or 2s for steadier numbers). The heavy
# ones (10 M flows/packets) build their inputs on first use under $TMPDIR.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# spotctl against Debian's nfdump on the same ~10 M flows, in one run
# (needs nfdump, nfpcapd, ~3 GB in $TMPDIR); docs/performance.md quotes it.
bench-nfdump:
	bash testdata/bench/vs-nfdump.sh

# Runs every native fuzz target for FUZZTIME each (CI: 10s); see .ci/fuzz.
fuzz:
	GO=$(GO) bash .ci/fuzz $(FUZZTIME)

# The main job on built-in data: a synthetic capture → a case → what is in it.
demo: build
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN) synth --seed 1 --hosts 20 --duration 24h --inject all -o $(DEMO)/demo.pcap
	$(BIN) ingest $(DEMO)/demo.pcap -o $(DEMO)/demo.case
	$(BIN) info $(DEMO)/demo.case --format table
	$(BIN) score flows $(DEMO)/demo.case --top 20 --format table
	$(BIN) score dns $(DEMO)/demo.case --top 20 --format table

clean:
	rm -rf bin $(DEMO)

# Detection report: labelled synthetic attacks over several seeds, scored as
# a user would; rewrites the generated section of docs/detection.md.
eval: build
	$(BIN) eval --seeds 1,2,3,4,5 --lda-seeds 10 -o docs/detection.md
