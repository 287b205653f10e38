# Suites beyond the unit tests: scenario sweeps, planted bugs, determinism, checkers.

set(RS_SUITES ${CMAKE_CURRENT_SOURCE_DIR}/suites)

# Every shipped scenario passes every check for seeds 1..100.
set(RS_SCENARIO_FILES leader-isolation minority-partition crash-restart-loop lossy-network
    one-way-partition leader-churn stale-leader-reads)
foreach(s ${RS_SCENARIO_FILES})
  rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
    LABELS scenario SUFFIX ${s} ARGS scenarios/${s}.scn 1 100 TIMEOUT 1800)
endforeach()

# The fault scenarios of issue 3 pass every check for seeds 1..200.
set(RS_FAULT_SCENARIO_FILES swizzle-clog pause-gc disk-faults)
foreach(s ${RS_FAULT_SCENARIO_FILES})
  rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
    LABELS scenario SUFFIX ${s} ARGS scenarios/${s}.scn 1 200 TIMEOUT 1800)
endforeach()

# The swarm: every seed its own fault mix. Seeds 1..1000, in four shards so ctest -j spreads
# them over the cores.
foreach(shard 1 2 3 4)
  math(EXPR first "(${shard} - 1) * 250 + 1")
  math(EXPR last "${shard} * 250")
  rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
    LABELS scenario SUFFIX swarm-${first}-${last} ARGS scenarios/swarm.scn ${first} ${last}
    TIMEOUT 1800)
endforeach()

# Each planted bug is caught within 200 seeds, by the check that should catch it.
rs_add_test(test_bug_caught SOURCES ${RS_SUITES}/test_bug_caught.c LABELS bugs SUFFIX commit-old-term
  ARGS commit-old-term scenarios/leader-churn.scn 200
  "state-machine-safety|committed-entry-conflict|linearizability|leader-completeness|log-matching"
  TIMEOUT 1800)
rs_add_test(test_bug_caught SOURCES ${RS_SUITES}/test_bug_caught.c LABELS bugs SUFFIX vote-no-log-check
  ARGS vote-no-log-check scenarios/crash-restart-loop.scn 200
  "state-machine-safety|committed-entry-conflict|linearizability|election-safety|leader-completeness|log-matching"
  TIMEOUT 1800)
rs_add_test(test_bug_caught SOURCES ${RS_SUITES}/test_bug_caught.c LABELS bugs SUFFIX ack-before-sync
  ARGS ack-before-sync scenarios/crash-restart-loop.scn 200
  "acknowledgements-kept|durability|state-machine-safety|committed-entry-conflict|linearizability|liveness|leader-completeness"
  TIMEOUT 1800)
rs_add_test(test_bug_caught SOURCES ${RS_SUITES}/test_bug_caught.c LABELS bugs SUFFIX read-without-quorum
  ARGS read-without-quorum scenarios/stale-leader-reads.scn 200 linearizability TIMEOUT 1800)

# Same seed, same bytes, for a run with crashes, one with a lossy network, and runs with every
# fault.
rs_add_test(test_determinism SOURCES ${RS_SUITES}/test_determinism.c LABELS determinism SUFFIX crash-restart-loop
  ARGS scenarios/crash-restart-loop.scn 7 TIMEOUT 600)
rs_add_test(test_determinism SOURCES ${RS_SUITES}/test_determinism.c LABELS determinism SUFFIX lossy-network
  ARGS scenarios/lossy-network.scn 3 TIMEOUT 600)
# With every fault: a swarm seed that enables 13 of the 14 fault kinds, and a scripted run of
# every fault command.
rs_add_test(test_determinism SOURCES ${RS_SUITES}/test_determinism.c LABELS determinism SUFFIX swarm
  ARGS scenarios/swarm.scn 85 TIMEOUT 600)
rs_add_test(test_determinism SOURCES ${RS_SUITES}/test_determinism.c LABELS determinism SUFFIX all-faults
  ARGS tests/data/scenarios/all-faults.scn 3 TIMEOUT 600)

# The checkers: check-history on sample files and on a run's own history.
rs_add_test(test_check_history SOURCES ${RS_SUITES}/test_check_history.c LABELS check
  TIMEOUT 600)
set_property(TEST test_lincheck test_history APPEND PROPERTY LABELS check)

# The engine scenarios of issue 3 (snapshots, membership, learners, transfers, lease reads,
# wipe) pass every check for seeds 1..200.
set(RS_ENGINE_SCENARIO_FILES snapshot-install-interrupted membership-under-partition
    leader-transfer-storm learner-lag wipe-and-rejoin)
foreach(s ${RS_ENGINE_SCENARIO_FILES})
  rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
    LABELS scenario SUFFIX ${s} ARGS scenarios/${s}.scn 1 200 TIMEOUT 1800)
endforeach()

# Lease reads under clock skew: seeds 1..200 (every seed cuts the leader off 41 times), in two
# shards of about 50 s each (release build) so that ctest -j spreads them.
foreach(range "1;100" "101;200")
  list(GET range 0 first)
  list(GET range 1 last)
  rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
    LABELS scenario SUFFIX clock-skew-lease-read-${first}-${last}
    ARGS scenarios/clock-skew-lease-read.scn ${first} ${last} TIMEOUT 1800)
endforeach()

# The planted bugs of issue 3, each caught by a scenario.
rs_add_test(test_bug_caught SOURCES ${RS_SUITES}/test_bug_caught.c LABELS bugs
  SUFFIX learner-votes-count
  ARGS learner-votes-count scenarios/membership-under-partition.scn 500
  "learners-uncounted|leader-completeness|state-machine-safety|linearizability" TIMEOUT 1800)
rs_add_test(test_bug_caught SOURCES ${RS_SUITES}/test_bug_caught.c LABELS bugs
  SUFFIX snapshot-drops-tail
  ARGS snapshot-drops-tail scenarios/snapshot-install-interrupted.scn 500
  "durability|acknowledgements-kept|committed-kept|leader-completeness" TIMEOUT 1800)
rs_add_test(test_bug_caught SOURCES ${RS_SUITES}/test_bug_caught.c LABELS bugs
  SUFFIX truncate-committed
  ARGS truncate-committed scenarios/lossy-network.scn 500
  "committed-kept|acknowledgements-kept|state-machine-safety|leader-completeness" TIMEOUT 1800)
rs_add_test(test_bug_caught SOURCES ${RS_SUITES}/test_bug_caught.c LABELS bugs
  SUFFIX transfer-without-catchup
  ARGS transfer-without-catchup scenarios/leader-transfer-storm.scn 500 expectation
  TIMEOUT 1800)

# Multi-raft (issue 4): several regions on the same stores, routed by key, seeds 1..200, and
# the same bytes for the same seed.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX multi-region-faults ARGS scenarios/multi-region-faults.scn 1 200
  TIMEOUT 1800)
rs_add_test(test_determinism SOURCES ${RS_SUITES}/test_determinism.c LABELS determinism
  SUFFIX multi-region-faults ARGS scenarios/multi-region-faults.scn 5 TIMEOUT 600)
# Splits through the raft log under partitions, crashes and leadership transfers: 1..200, and
# the same bytes for the same seed.
foreach(s region-split-under-partition split-during-leader-transfer)
  rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
    LABELS scenario SUFFIX ${s} ARGS scenarios/${s}.scn 1 200 TIMEOUT 1800)
  rs_add_test(test_determinism SOURCES ${RS_SUITES}/test_determinism.c LABELS determinism
    SUFFIX ${s} ARGS scenarios/${s}.scn 3 TIMEOUT 600)
endforeach()

# Every operation of the KV API in one mix, under a few faults: seeds 1..100.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX kv-api-mix ARGS scenarios/kv-api-mix.scn 1 100 TIMEOUT 1800)

# Several voters changed at once (change-peers) while partitions split the old voters from
# the new: every check holds for seeds 1..200 (30 to 50 s), and the planted bug
# joint-single-quorum is caught (each of the seeds 1..100 catches it).
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX joint-change-under-partition
  ARGS scenarios/joint-change-under-partition.scn 1 200 TIMEOUT 1800)
rs_add_test(test_bug_caught SOURCES ${RS_SUITES}/test_bug_caught.c LABELS bugs
  SUFFIX joint-single-quorum
  ARGS joint-single-quorum scenarios/joint-change-under-partition.scn 500
  "learners-uncounted|conf-changes-serial|election-safety|leader-completeness|state-machine-safety|linearizability"
  TIMEOUT 1800)
# Operations that span regions (split by the client, merged for the caller) over four regions
# that split while they run: seeds 1..100.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX multi-region-kv-api ARGS scenarios/multi-region-kv-api.scn 1 100
  TIMEOUT 1800)

# rheasim compare: read_index against lease reads on leader-isolation, seeds 1..4. compare.md
# and compare.csv hold the expected rows, and a second comparison (without plots) gives the
# same compare.csv and compare-seeds.csv bytes.
add_test(NAME compare-leader-isolation
  COMMAND sh -c [=[
set -e
rm -rf "$1"
"$0" compare scenarios/leader-isolation.scn --vary raft.read=read_index,lease --seeds 1..4 --out "$1/a" --quiet
"$0" compare scenarios/leader-isolation.scn --vary raft.read=read_index,lease --seeds 1..4 --out "$1/b" --quiet --no-plots
test "$(wc -l < "$1/a/compare.csv")" -eq 41
test "$(wc -l < "$1/a/compare-seeds.csv")" -eq 161
grep -q '^latency_p99,ms,read_index,yes,4,' "$1/a/compare.csv"
grep -q '^latency_p99,ms,lease,no,4,' "$1/a/compare.csv"
grep -q '^| read_index (baseline) | 4 |' "$1/a/compare.md"
grep -q '^| lease | 4 |' "$1/a/compare.md"
cmp "$1/a/compare.csv" "$1/b/compare.csv"
cmp "$1/a/compare-seeds.csv" "$1/b/compare-seeds.csv"
echo "compare: expected rows, identical bytes"
]=] $<TARGET_FILE:rheasim> ${CMAKE_CURRENT_BINARY_DIR}/compare-leader-isolation
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(compare-leader-isolation PROPERTIES LABELS check TIMEOUT 600)
# The lease that ignores the drift outlives the leadership: the old leader answers its readers
# after the others elected a new leader and committed writes (99 of seeds 1..100 catch it).
rs_add_test(test_bug_caught SOURCES ${RS_SUITES}/test_bug_caught.c LABELS bugs
  SUFFIX lease-ignores-drift
  ARGS lease-ignores-drift scenarios/clock-skew-lease-read.scn 500 linearizability TIMEOUT 1800)

# A cluster from a RheaKV YAML configuration (stores, regions with their own members and node
# options, a learner placed by one region): seeds 1..100, and the same bytes for a seed.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX rhea-config-three-regions
  ARGS scenarios/rhea-config-three-regions.scn 1 100 TIMEOUT 1800)
rs_add_test(test_determinism SOURCES ${RS_SUITES}/test_determinism.c LABELS determinism
  SUFFIX rhea-config-three-regions ARGS scenarios/rhea-config-three-regions.scn 2 TIMEOUT 600)

# The Placement Driver process with the leader-count policy balances the leaders of twenty
# regions on five stores (every seed of 1..10 ends with 4 leaders a store); safety holds.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX balance-leaders-from-one-store
  ARGS scenarios/balance-leaders-from-one-store.scn 1 50 TIMEOUT 600)
# A new, empty store gets replicas (region-count) and leaders (leader-count): 1..50.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX add-store ARGS scenarios/add-store.scn 1 50 TIMEOUT 600)
# The PD crashes, restarts with an empty view and is cut off while it balances: 1..50.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX pd-failover ARGS scenarios/pd-failover.scn 1 50 TIMEOUT 600)
# RheaKV's leader-balance stall (configs/rhea-balance-stall.yaml): every check holds, 1..50.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX rhea-balance-stall ARGS scenarios/rhea-balance-stall.scn 1 50
  TIMEOUT 600)
rs_add_test(test_determinism SOURCES ${RS_SUITES}/test_determinism.c LABELS determinism
  SUFFIX balance-leaders-from-one-store ARGS scenarios/balance-leaders-from-one-store.scn 2
  TIMEOUT 600)

# Swarm over eight regions spread on five stores (recoverable mode: at most two stores impaired
# at once, which can be two of a region's three replicas: it is unavailable until the heal),
# and learner-lag with a learner of each of four regions: seeds 1..100.
foreach(s swarm-multi-region learner-lag-multi-region)
  rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
    LABELS scenario SUFFIX ${s} ARGS scenarios/${s}.scn 1 100 TIMEOUT 1800)
endforeach()

# Automatic splits by the split judge under a write-heavy zipf load, leaders and replicas
# spread by the PD: seeds 1..50.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX split-storm ARGS scenarios/split-storm.scn 1 50 TIMEOUT 1800)
rs_add_test(test_determinism SOURCES ${RS_SUITES}/test_determinism.c LABELS determinism
  SUFFIX split-storm ARGS scenarios/split-storm.scn 2 TIMEOUT 600)

# A hot key: the load policy moves leaders and replicas by QPS and bytes: seeds 1..50.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX hot-spot-moves ARGS scenarios/hot-spot-moves.scn 1 50 TIMEOUT 1800)

# CliService's greedy rebalance run by an operator, no PD: seeds 1..50.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX rebalance-leaders ARGS scenarios/rebalance-leaders.scn 1 50 TIMEOUT 600)

# A store goes away for good: region-count repairs the regions it held: seeds 1..50.
rs_add_test(test_scenario_sweep SOURCES ${RS_SUITES}/test_scenario_sweep.c
  LABELS scenario SUFFIX remove-store ARGS scenarios/remove-store.scn 1 50 TIMEOUT 600)
