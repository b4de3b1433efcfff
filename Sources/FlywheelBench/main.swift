// flywheel-bench: the Swift side of the benchmarks in bench/. The first argument picks the mode:
//
//   flywheel-bench tracking [--dir D] [--single N] …   tracking through the Swift API (bench/tracking.sh)
//   flywheel-bench learn csv|fit|serve …               FlywheelData / FlywheelLearn (bench/learn.sh)
//   flywheel-bench ui [--runs N] …                      the web UI's pages, rendered in process (bench/ui.sh)
//
// Each mode prints one JSON object on standard output.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "tracking":
    try await runTracking(Array(arguments.dropFirst()))
case "learn":
    try runLearn(Array(arguments.dropFirst()))
case "ui":
    try await runUIBench(Array(arguments.dropFirst()))
case let first? where first.hasPrefix("--"):
    // The interface before modes existed: options only, meaning tracking.
    try await runTracking(arguments)
default:
    fail("usage: flywheel-bench tracking [options] | flywheel-bench learn csv|fit|serve [options] | flywheel-bench ui [options]")
}
