import Dispatch
import Foundation

/// A destination buffer that several threads fill at disjoint indices.
///
/// `@unchecked Sendable`: it is only used inside `predictBlocks`, whose owning array's
/// `withUnsafeMutableBufferPointer` scope encloses the threads, and each row's values are written by one thread.
struct SharedOutput: @unchecked Sendable {
    let base: UnsafeMutablePointer<Double>
}

/// The number of usable cores, read once: on Linux `activeProcessorCount` reads cgroup files,
/// which costs ~20 µs a call.
enum ProcessorCount {
    static let active = ProcessInfo.processInfo.activeProcessorCount
}

/// Calls `body` on consecutive ranges covering `0..<count`, on several Dispatch threads when
/// there are enough rows to be worth it (boosting's gradient and score updates). Blocking: call
/// it off the cooperative pool.
func forEachRowChunk(_ count: Int, threads: Int?, _ body: @Sendable (Range<Int>) -> Void) {
    // Small batches must not pay for asking the OS how many cores there are.
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
///
/// Threads take the next block as they finish one, so a core slowed by other work takes fewer
/// blocks instead of holding everyone up. Blocking: call it off the cooperative pool.
func predictBlocks(_ rows: Int, width: Int, threads: Int?, block: Int = 256,
                   _ fill: @Sendable (Range<Int>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
    var out = [Double](repeating: 0, count: rows * width)
    guard rows > 0, width > 0 else { return out }
    let block = max(block, 1)
    let blocks = (rows + block - 1) / block
    // Small batches (a single served row) must not pay for asking the OS how many cores there are.
    let workers = rows < 1024 ? 1 : max(1, min(threads ?? ProcessorCount.active, blocks))
    out.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return }
        let range: @Sendable (Int) -> Range<Int> = { b in (b * block)..<min(rows, (b + 1) * block) }
        if workers == 1 {
            for b in 0..<blocks { fill(range(b), base) }
            return
        }
        let target = SharedOutput(base: base)
        let next = BlockCounter(count: blocks)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let b = next.claim() { fill(range(b), target.base) }
        }
    }
    return out
}

/// Hands out block indices `0..<count`, each once, to whichever thread asks first.
private final class BlockCounter: @unchecked Sendable {
    // @unchecked: every access to `next` holds `lock`.
    private let lock = NSLock()
    private var next = 0
    private let count: Int

    init(count: Int) { self.count = count }

    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }
}
