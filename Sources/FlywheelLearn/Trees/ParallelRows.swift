import Dispatch
import Foundation

/// A destination buffer that several threads fill at disjoint indices.
///
/// `@unchecked Sendable`: it is only used inside `forEachRowChunk`, which the owning array's
/// `withUnsafeMutableBufferPointer` scope encloses, and each row's values are written by one thread.
struct SharedOutput: @unchecked Sendable {
    let base: UnsafeMutablePointer<Double>
}

/// The number of usable cores, read once: on Linux `activeProcessorCount` reads cgroup files,
/// which costs ~20 µs a call.
enum ProcessorCount {
    static let active = ProcessInfo.processInfo.activeProcessorCount
}

/// Calls `body` on consecutive ranges covering `0..<count`, on several Dispatch threads when
/// there are enough rows to be worth it. Blocking: call it off the cooperative pool.
func forEachRowChunk(_ count: Int, threads: Int?, _ body: @Sendable (Range<Int>) -> Void) {
    // Small batches (a single served row) must not pay for asking the OS how many cores there are.
    let workers = count < 1024 ? 1 : max(1, min(threads ?? ProcessorCount.active, count / 512))
    if workers == 1 {
        body(0..<count)
        return
    }
    let chunk = (count + workers - 1) / workers
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        let lo = w * chunk, hi = min(count, lo + chunk)
        if lo < hi { body(lo..<hi) }
    }
}

/// Fills a `rows × width` row-major result, each row by `fill(row, destination)`, in parallel.
func predictRows(_ rows: Int, width: Int, threads: Int?,
                 _ fill: @Sendable (Int, UnsafeMutableBufferPointer<Double>) -> Void) -> [Double] {
    predictBlocks(rows, width: width, threads: threads) { block, base in
        for r in block { fill(r, UnsafeMutableBufferPointer(start: base + r * width, count: width)) }
    }
}

/// Like ``predictRows`` but hands `fill` blocks of up to `block` consecutive rows, so a forest
/// can walk one tree over the whole block while that tree is in cache (tree-major order).
func predictBlocks(_ rows: Int, width: Int, threads: Int?, block: Int = 256,
                   _ fill: @Sendable (Range<Int>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
    var out = [Double](repeating: 0, count: rows * width)
    guard rows > 0, width > 0 else { return out }
    out.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return }
        let target = SharedOutput(base: base)
        forEachRowChunk(rows, threads: threads) { range in
            var lo = range.lowerBound
            while lo < range.upperBound {
                let hi = min(range.upperBound, lo + block)
                fill(lo..<hi, target.base)
                lo = hi
            }
        }
    }
    return out
}
