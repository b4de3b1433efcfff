import Dispatch

/// Grows regression trees on binned features from per-row gradients and hessians, best-first.
///
/// A node's histogram holds, per feature and bin (the missing bin last), the sums of gradient,
/// hessian and rows (only gradient and rows when every hessian is 1). Only the smaller child's
/// histogram is built from rows; the larger one is the parent's minus it. A split's gain is
/// G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ); the missing bin is tried on both sides. Leaf values are −learningRate·G/(H+λ).
///
/// Work is shared among `threads` threads by whole features (a feature's histogram slots are
/// summed by one thread, in row order, and its best split found by that thread) and, for large
/// nodes, by row blocks whose results don't depend on the blocking (a stable partition). The
/// per-feature best splits are then compared in feature order, so the tree is the same whatever
/// the thread count.
///
/// Rows are positions `0..<rowCount` of the training rows. A node owns a contiguous range of
/// `rows`, kept in increasing order (the partition is stable), so reading a column through it
/// walks memory forward. The grower keeps its buffers from tree to tree: create one per fit.
///
/// Hot loops use raw pointers and `while` so that debug builds (the test suite) stay usable.
final class HistogramTreeGrower {
    let rowCount: Int
    let featureCount: Int
    let binner: FeatureBinner
    let params: HistGradientBoostingHyperparameters
    let minHessian = 1e-3
    /// Threads that share the work; the tree doesn't depend on it.
    let threads: Int
    /// Every hessian is 1 (squared error): histograms skip them and use the row count instead.
    let constantHessian: Bool
    /// Histogram slots in all; feature `f` owns `binCount(f) + 1` of them (missing last).
    let slotCount: Int

    private let buffers: Buffers
    /// Histograms not held by an open leaf.
    private var freeHistograms: [UnsafeMutablePointer<Double>] = []
    private var allHistograms: [UnsafeMutablePointer<Double>] = []

    /// Below this much work (row-feature updates, plus 4 per histogram slot searched) a node's
    /// histogram and split search run on one thread: waking the others costs more than it saves.
    static let parallelWork = 12_000
    /// Below this many rows a node is partitioned on one thread.
    static let parallelPartition = 8_192

    /// `bins`: column-major, `rowCount` rows (see `FeatureBinner.fitted`).
    init(bins: [UInt8], rowCount: Int, featureCount: Int, binner: FeatureBinner, params: HistGradientBoostingHyperparameters,
         threads: Int, constantHessian: Bool) {
        self.rowCount = rowCount
        self.featureCount = featureCount
        self.binner = binner
        self.params = params
        self.threads = max(1, threads)
        self.constantHessian = constantHessian
        var offsets = [Int]()
        var total = 0
        for f in 0..<featureCount {
            offsets.append(total)
            total += binner.binCount(f) + 1
        }
        offsets.append(total)
        slotCount = total
        buffers = Buffers(bins: bins, rowCount: rowCount, featureCount: featureCount, offsets: offsets,
                          binCounts: (0..<featureCount).map { binner.binCount($0) }, blocks: self.threads)
    }

    deinit {
        for h in allHistograms { h.deallocate() }
        buffers.deallocate()
    }

    /// One split of a node: where, its gain, and the sums of the rows going left.
    struct Split {
        var gain = 0.0
        var feature = -1
        var bin = 0
        var missingGoesLeft = false
        var leftGradient = 0.0
        var leftHessian = 0.0
        var leftCount = 0.0
    }

    private struct Leaf {
        var node: Int
        var start: Int
        var end: Int
        var depth: Int
        var gradient: Double
        var hessian: Double
        var histogram: UnsafeMutablePointer<Double>?
        var split: Split
    }

    /// A leaf of a grown tree and the positions of its rows in `rows`.
    struct GrownLeaf {
        var node: Int
        var start: Int
        var end: Int
    }

    /// Grows a tree over every training row from `gradients` and `hessians` (indexed by row; `hessians`
    /// is not read when `constantHessian`) and returns it with its leaves; a leaf's rows are
    /// `rows[start..<end]`, valid until the next `grow`.
    func grow(gradients: UnsafePointer<Double>, hessians: UnsafePointer<Double>) -> (TreeNodes, [GrownLeaf]) {
        let b = buffers
        var p = 0
        while p < rowCount { b.rows[p] = Int32(p); p += 1 }
        var tree = TreeNodes(outputCount: 1)
        let maxLeaves = params.maxLeafNodes ?? Int.max
        var first = Leaf(node: 0, start: 0, end: rowCount, depth: 0, gradient: 0, hessian: 0, histogram: nil, split: Split())
        if canSplit(first) && maxLeaves > 1 {
            // The root's sums come from its histogram (feature 0's bins), so no thread sums all rows alone.
            let histogram = takeHistogram()
            run(NodeJob(buffers: b, search: searchParameters, small: histogram, large: nil, smallRows: nil, count: rowCount,
                        gradients: gradients, hessians: constantHessian ? nil : hessians, children: []))
            let search = searchParameters
            var i = 0
            while i <= binner.binCount(0) {
                first.gradient += histogram[search.stride * i]
                first.hessian += histogram[search.stride * i + search.hessianSlot]
                i += 1
            }
            if constantHessian { first.hessian = Double(rowCount) }
            run(NodeJob(buffers: b, search: search, small: nil, large: nil, smallRows: nil, count: 0,
                        gradients: gradients, hessians: nil,
                        children: [ChildSearch(histogram: histogram, candidates: b.candidates, gradient: first.gradient,
                                               hessian: first.hessian, count: rowCount)]))
            first.split = bestOfFeatures(b.candidates)
            first.histogram = histogram
        } else {
            p = 0
            while p < rowCount { first.gradient += gradients[p]; p += 1 }
            if constantHessian {
                first.hessian = Double(rowCount)
            } else {
                p = 0
                while p < rowCount { first.hessian += hessians[p]; p += 1 }
            }
        }
        first.node = tree.appendLeaf(CollectionOfOne(leafValue(first.gradient, first.hessian)))
        var done = [GrownLeaf]()
        var open = [Leaf]()
        if first.split.feature >= 0 { open.append(first) } else { release(&first); done.append(grown(first)) }
        var leafCount = 1

        while leafCount < maxLeaves {
            // Best-first: split the open leaf with the largest gain.
            var pick = -1
            for i in open.indices where pick < 0 || open[i].split.gain > open[pick].split.gain { pick = i }
            guard pick >= 0 else { break }
            var leaf = open.remove(at: pick)
            let s = leaf.split
            // The last split's children get no histogram: skip gathering their gradients.
            let leftCount = partition(leaf, gathering: leafCount + 1 < maxLeaves, gradients, hessians)
            let mid = leaf.start + leftCount
            let lg = s.leftGradient, lh = constantHessian ? Double(leftCount) : s.leftHessian
            let rg = leaf.gradient - lg, rh = constantHessian ? Double(leaf.end - mid) : leaf.hessian - lh
            let leftNode = tree.appendLeaf(CollectionOfOne(leafValue(lg, lh)))
            let rightNode = tree.appendLeaf(CollectionOfOne(leafValue(rg, rh)))
            let edges = binner.edges[s.feature]
            // The top bin has no edge: "every present value left, missing right".
            let threshold = s.bin < edges.count ? edges[s.bin] : Double.greatestFiniteMagnitude
            tree.split(leaf.node, feature: s.feature, threshold: threshold, missingGoesLeft: s.missingGoesLeft,
                       left: leftNode, right: rightNode)
            leafCount += 1

            var left = Leaf(node: leftNode, start: leaf.start, end: mid, depth: leaf.depth + 1, gradient: lg, hessian: lh,
                            histogram: nil, split: Split())
            var right = Leaf(node: rightNode, start: mid, end: leaf.end, depth: leaf.depth + 1, gradient: rg, hessian: rh,
                             histogram: nil, split: Split())
            // After the last split no child will be split again: skip their histograms.
            if let parent = leaf.histogram, leafCount < maxLeaves, canSplit(left) || canSplit(right) {
                let leftSmaller = mid - leaf.start <= leaf.end - mid
                let small = takeHistogram()
                var searches = [ChildSearch]()
                let leftHistogram = leftSmaller ? small : parent, rightHistogram = leftSmaller ? parent : small
                if canSplit(left) {
                    searches.append(ChildSearch(histogram: leftHistogram, candidates: b.candidates, gradient: lg, hessian: lh,
                                                count: mid - leaf.start))
                }
                if canSplit(right) {
                    searches.append(ChildSearch(histogram: rightHistogram,
                                                candidates: b.candidates + featureCount * searches.count,
                                                gradient: rg, hessian: rh, count: leaf.end - mid))
                }
                let smallStart = leftSmaller ? leaf.start : mid
                let smallCount = leftSmaller ? mid - leaf.start : leaf.end - mid
                run(NodeJob(buffers: b, search: searchParameters, small: small, large: parent,
                            smallRows: UnsafePointer(b.rows + smallStart), count: smallCount,
                            gradients: UnsafePointer(b.orderedGradients),
                            hessians: constantHessian ? nil : UnsafePointer(b.orderedHessians), children: searches))
                left.histogram = leftHistogram
                right.histogram = rightHistogram
                leaf.histogram = nil
                var next = 0
                for child in [true, false] {
                    var c = child ? left : right
                    if canSplit(c) {
                        c.split = bestOfFeatures(b.candidates + featureCount * next)
                        next += 1
                    }
                    if c.split.feature >= 0 { open.append(c) } else { release(&c); done.append(grown(c)) }
                }
            } else {
                release(&leaf)
                done.append(grown(left))
                done.append(grown(right))
            }
        }
        for var leaf in open { release(&leaf); done.append(grown(leaf)) }
        return (tree, done)
    }

    /// Adds each leaf's value to `raw[row * stride + offset]` for the rows it holds.
    func addLeafValues(_ tree: TreeNodes, _ leaves: [GrownLeaf], to raw: UnsafeMutablePointer<Double>, stride: Int, offset: Int) {
        let rows = RowPositions(base: buffers.rows)
        let target = RawScores(base: raw)
        let values = leaves.map { tree.values[$0.node] }
        let body: @Sendable (Int) -> Void = { i in
            let leaf = leaves[i], value = values[i]
            var p = leaf.start
            while p < leaf.end {
                target.base[Int(rows.base[p]) * stride + offset] += value
                p += 1
            }
        }
        if threads > 1 && rowCount >= Self.parallelPartition {
            DispatchQueue.concurrentPerform(iterations: leaves.count, execute: body)
        } else {
            for i in leaves.indices { body(i) }
        }
    }

    private var searchParameters: SearchParameters {
        SearchParameters(lambda: params.l2Regularization, minLeaf: Double(params.minSamplesLeaf), minHessian: minHessian,
                         stride: constantHessian ? 2 : 3)
    }

    private func grown(_ leaf: Leaf) -> GrownLeaf { GrownLeaf(node: leaf.node, start: leaf.start, end: leaf.end) }

    private func canSplit(_ leaf: Leaf) -> Bool {
        if let d = params.maxDepth, leaf.depth >= d { return false }
        return leaf.end - leaf.start >= 2 * params.minSamplesLeaf
    }

    private func leafValue(_ g: Double, _ h: Double) -> Double {
        -params.learningRate * g / (h + params.l2Regularization)
    }

    private func takeHistogram() -> UnsafeMutablePointer<Double> {
        if let h = freeHistograms.popLast() { return h }
        let h = UnsafeMutablePointer<Double>.allocate(capacity: (constantHessian ? 2 : 3) * slotCount)
        allHistograms.append(h)
        return h
    }

    private func release(_ leaf: inout Leaf) {
        if let h = leaf.histogram { freeHistograms.append(h) }
        leaf.histogram = nil
    }

    /// Builds the small histogram, derives the large one and searches the children, feature by feature.
    private func run(_ job: NodeJob) {
        let work = job.count * featureCount + job.children.count * slotCount * 4
        let pairs = (featureCount + 1) / 2
        if threads > 1 && work >= Self.parallelWork && pairs > 1 {
            DispatchQueue.concurrentPerform(iterations: pairs) { job.pair($0) }
        } else {
            var p = 0
            while p < pairs { job.pair(p); p += 1 }
        }
    }

    /// The best of the per-feature candidates, compared in feature order (so ties go to the lower feature).
    private func bestOfFeatures(_ candidates: UnsafeMutablePointer<Split>) -> Split {
        var best = Split()
        var f = 0
        while f < featureCount {
            let c = candidates[f]
            if c.feature >= 0 && SearchParameters.beats(c.gain, best.gain) { best = c }
            f += 1
        }
        return best
    }

    /// Stable partition of a splitting leaf's rows (left first); gathers the gradients and hessians
    /// of the smaller child's rows, in order, into `orderedGradients`/`orderedHessians` when `gather`.
    /// Returns the number of rows going left.
    private func partition(_ leaf: Leaf, gathering gather: Bool, _ gradients: UnsafePointer<Double>,
                           _ hessians: UnsafePointer<Double>) -> Int {
        let s = leaf.split
        let job = PartitionJob(buffers: buffers, column: UnsafePointer(buffers.bins + s.feature * rowCount),
                               missing: UInt8(binner.binCount(s.feature)), bin: UInt8(s.bin), missingGoesLeft: s.missingGoesLeft,
                               start: leaf.start, end: leaf.end, blocks: 1, gather: gather, gradients: gradients,
                               hessians: constantHessian ? nil : hessians)
        let count = leaf.end - leaf.start
        if threads > 1 && count >= Self.parallelPartition {
            var blocked = job
            blocked.blocks = threads
            let parallel = blocked
            DispatchQueue.concurrentPerform(iterations: threads) { parallel.split(block: $0) }
            let left = parallel.placements()
            DispatchQueue.concurrentPerform(iterations: threads) { parallel.place(block: $0, leftTotal: left) }
            return left
        }
        job.split(block: 0)
        let left = job.placements()
        job.place(block: 0, leftTotal: left)
        return left
    }
}

/// The grower's working memory, allocated once per fit.
///
/// `@unchecked Sendable`: the pointers are shared with `concurrentPerform` workers that each
/// write disjoint parts (their features' histogram slots and candidates, or their row block).
private struct Buffers: @unchecked Sendable {
    let rowCount: Int
    let featureCount: Int
    let bins: UnsafeMutablePointer<UInt8>
    let rows: UnsafeMutablePointer<Int32>
    let leftScratch: UnsafeMutablePointer<Int32>
    let rightScratch: UnsafeMutablePointer<Int32>
    let orderedGradients: UnsafeMutablePointer<Double>
    let orderedHessians: UnsafeMutablePointer<Double>
    /// First slot per feature, and the slot count at the end (`featureCount + 1` values).
    let offsets: UnsafeMutablePointer<Int>
    let binCounts: UnsafeMutablePointer<Int>
    /// Best split per feature for up to two children.
    let candidates: UnsafeMutablePointer<HistogramTreeGrower.Split>
    /// Rows going left per partition block.
    let blockLeft: UnsafeMutablePointer<Int>

    init(bins: [UInt8], rowCount: Int, featureCount: Int, offsets: [Int], binCounts: [Int], blocks: Int) {
        self.rowCount = rowCount
        self.featureCount = featureCount
        self.bins = .allocate(capacity: max(1, bins.count))
        _ = UnsafeMutableBufferPointer(start: self.bins, count: bins.count).initialize(from: bins)
        let n = max(1, rowCount)
        rows = .allocate(capacity: n)
        leftScratch = .allocate(capacity: n)
        rightScratch = .allocate(capacity: n)
        orderedGradients = .allocate(capacity: n)
        orderedHessians = .allocate(capacity: n)
        self.offsets = .allocate(capacity: offsets.count)
        self.offsets.initialize(from: offsets, count: offsets.count)
        self.binCounts = .allocate(capacity: max(1, binCounts.count))
        self.binCounts.initialize(from: binCounts, count: binCounts.count)
        candidates = .allocate(capacity: max(1, 2 * featureCount))
        candidates.initialize(repeating: HistogramTreeGrower.Split(), count: max(1, 2 * featureCount))
        blockLeft = .allocate(capacity: blocks)
        blockLeft.initialize(repeating: 0, count: blocks)
    }

    func deallocate() {
        for p in [UnsafeMutableRawPointer(bins), UnsafeMutableRawPointer(rows), UnsafeMutableRawPointer(leftScratch),
                  UnsafeMutableRawPointer(rightScratch), UnsafeMutableRawPointer(orderedGradients),
                  UnsafeMutableRawPointer(orderedHessians), UnsafeMutableRawPointer(offsets), UnsafeMutableRawPointer(binCounts),
                  UnsafeMutableRawPointer(candidates), UnsafeMutableRawPointer(blockLeft)] {
            p.deallocate()
        }
    }
}

/// Raw scores written by several threads at disjoint rows (`@unchecked Sendable`, as `Buffers`).
private struct RawScores: @unchecked Sendable {
    let base: UnsafeMutablePointer<Double>
}

/// The grower's row order, read by several threads (`@unchecked Sendable`, as `Buffers`).
private struct RowPositions: @unchecked Sendable {
    let base: UnsafeMutablePointer<Int32>
}

/// The constants of a split search.
private struct SearchParameters {
    let lambda: Double
    let minLeaf: Double
    let minHessian: Double
    /// Values per histogram slot: gradient, hessian and row sums (3), or gradient and row sums (2)
    /// when every hessian is 1 and the row count is the hessian sum.
    let stride: Int
    /// Where a slot keeps its hessian and row sums.
    var hessianSlot: Int { 1 }
    var countSlot: Int { stride - 1 }

    /// Whether `gain` replaces the best so far: it must be larger by more than rounding.
    static func beats(_ gain: Double, _ best: Double) -> Bool { gain > bar(best) }

    /// What a gain must exceed to replace `best`.
    static func bar(_ best: Double) -> Double {
        let margin = best < 0 ? -best : best
        return best + 1e-12 * margin
    }
}

/// One child whose best split is searched, feature by feature.
private struct ChildSearch {
    let histogram: UnsafeMutablePointer<Double>
    /// `featureCount` results, one per feature.
    let candidates: UnsafeMutablePointer<HistogramTreeGrower.Split>
    let gradient: Double
    let hessian: Double
    let count: Int
}

/// The per-feature work of one node: fill the small histogram, derive the large one, search the children.
///
/// `@unchecked Sendable`: see `Buffers`; feature `f` touches only its own slots and candidates.
private struct NodeJob: @unchecked Sendable {
    let buffers: Buffers
    let search: SearchParameters
    /// Histogram filled from `count` rows; nil to only search.
    let small: UnsafeMutablePointer<Double>?
    /// The parent's histogram, turned into the larger child's by subtracting `small`; nil at the root.
    let large: UnsafeMutablePointer<Double>?
    /// The rows of `small`, or nil for every row in order (the root).
    let smallRows: UnsafePointer<Int32>?
    let count: Int
    /// Per position in `smallRows` (or per row at the root).
    let gradients: UnsafePointer<Double>
    let hessians: UnsafePointer<Double>?
    let children: [ChildSearch]

    /// Features `2·task` and `2·task + 1` (when there is one): both are filled in one pass over the
    /// rows, which halves the loads of row indices and gradients.
    func pair(_ task: Int) {
        let f = 2 * task
        let features = buffers.featureCount
        let second = f + 1 < features
        let stride = search.stride
        let first = stride * buffers.offsets[f], end = stride * buffers.offsets[second ? f + 2 : f + 1]
        if let small {
            small.advanced(by: first).update(repeating: 0, count: end - first)
            let column = UnsafePointer(buffers.bins + f * buffers.rowCount)
            if second {
                fill(small + first, column, small + stride * buffers.offsets[f + 1], column + buffers.rowCount)
            } else {
                fill(small + first, column)
            }
            if let large {
                let l = large + first, s = small + first
                var i = 0
                let n = end - first
                while i < n { l[i] -= s[i]; i += 1 }
            }
        }
        for child in children {
            child.candidates[f] = best(child, feature: f)
            if second { child.candidates[f + 1] = best(child, feature: f + 1) }
        }
    }

    private func fill(_ out: UnsafeMutablePointer<Double>, _ column: UnsafePointer<UInt8>) {
        let g = gradients
        if let rows = smallRows {
            if let h = hessians {
                var i = 0
                while i < count {
                    let slot = out + 3 * Int(column[Int(rows[i])])
                    slot[0] += g[i]; slot[1] += h[i]; slot[2] += 1
                    i += 1
                }
            } else {
                var i = 0
                while i < count {
                    let slot = out + 2 * Int(column[Int(rows[i])])
                    slot[0] += g[i]; slot[1] += 1
                    i += 1
                }
            }
        } else {
            if let h = hessians {
                var i = 0
                while i < count {
                    let slot = out + 3 * Int(column[i])
                    slot[0] += g[i]; slot[1] += h[i]; slot[2] += 1
                    i += 1
                }
            } else {
                var i = 0
                while i < count {
                    let slot = out + 2 * Int(column[i])
                    slot[0] += g[i]; slot[1] += 1
                    i += 1
                }
            }
        }
    }

    private func fill(_ out1: UnsafeMutablePointer<Double>, _ column1: UnsafePointer<UInt8>,
                      _ out2: UnsafeMutablePointer<Double>, _ column2: UnsafePointer<UInt8>) {
        let g = gradients
        if let rows = smallRows {
            if let h = hessians {
                var i = 0
                while i < count {
                    let r = Int(rows[i]), gi = g[i], hi = h[i]
                    let a = out1 + 3 * Int(column1[r]), b = out2 + 3 * Int(column2[r])
                    a[0] += gi; a[1] += hi; a[2] += 1
                    b[0] += gi; b[1] += hi; b[2] += 1
                    i += 1
                }
            } else {
                var i = 0
                while i < count {
                    let r = Int(rows[i]), gi = g[i]
                    let a = out1 + 2 * Int(column1[r]), b = out2 + 2 * Int(column2[r])
                    a[0] += gi; a[1] += 1
                    b[0] += gi; b[1] += 1
                    i += 1
                }
            }
        } else {
            if let h = hessians {
                var i = 0
                while i < count {
                    let gi = g[i], hi = h[i]
                    let a = out1 + 3 * Int(column1[i]), b = out2 + 3 * Int(column2[i])
                    a[0] += gi; a[1] += hi; a[2] += 1
                    b[0] += gi; b[1] += hi; b[2] += 1
                    i += 1
                }
            } else {
                var i = 0
                while i < count {
                    let gi = g[i]
                    let a = out1 + 2 * Int(column1[i]), b = out2 + 2 * Int(column2[i])
                    a[0] += gi; a[1] += 1
                    b[0] += gi; b[1] += 1
                    i += 1
                }
            }
        }
    }

    /// The best split of one child on feature `f`.
    ///
    /// Three passes over the bins: running sums, then every candidate's gain (independent of one
    /// another and without branches, so the divisions overlap), then the first best in bin order.
    private func best(_ child: ChildSearch, feature f: Int) -> HistogramTreeGrower.Split {
        let nb = buffers.binCounts[f]
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 5 * nb) { scratch in
            // invariant: nb ≥ 1, so the allocation is non-empty.
            guard let base = scratch.baseAddress else { return HistogramTreeGrower.Split() }
            return best(child, feature: f, bins: nb, scratch: base)
        }
    }

    private func best(_ child: ChildSearch, feature f: Int, bins nb: Int,
                      scratch: UnsafeMutablePointer<Double>) -> HistogramTreeGrower.Split {
        let stride = search.stride, hs = search.hessianSlot, cs = search.countSlot
        let slots = UnsafePointer(child.histogram + stride * buffers.offsets[f])
        let missing = slots + stride * nb
        let mg = missing[0], mh = missing[hs], mc = missing[cs]
        let total = Double(child.count), gradient = child.gradient, hessian = child.hessian
        let lambda = search.lambda, minLeaf = search.minLeaf, minHessian = search.minHessian
        let parentScore = gradient * gradient / (hessian + lambda)
        let sg = scratch, sh = scratch + nb, sc = scratch + 2 * nb, gainRight = scratch + 3 * nb, gainLeft = scratch + 4 * nb

        // Running sums and every candidate's gain, −∞ where a side has too few rows or too little
        // hessian: one select on the smallest slack, so the loop has no branch and its divisions overlap.
        let last = nb - 1
        var g = 0.0, h = 0.0, c = 0.0
        var b = 0
        while b < nb {
            let slot = slots + stride * b
            g += slot[0]; h += slot[hs]; c += slot[cs]
            sg[b] = g; sh[b] = h; sc[b] = c
            let rg = gradient - g, rh = hessian - h
            let gain = g * g / (h + lambda) + rg * rg / (rh + lambda) - parentScore
            let slack = min(min(c - minLeaf, (total - c) - minLeaf), min(h - minHessian, rh - minHessian))
            gainRight[b] = slack >= 0 ? gain : -.infinity
            b += 1
        }
        // Present values left is only a split when missing values go right.
        if mc == 0 { gainRight[last] = -.infinity }
        if mc > 0 {
            b = 0
            while b < nb {
                let g = sg[b] + mg, h = sh[b] + mh, c = sc[b] + mc
                let rg = gradient - g, rh = hessian - h
                let gain = g * g / (h + lambda) + rg * rg / (rh + lambda) - parentScore
                let slack = min(min(min(c - minLeaf, (total - c) - minLeaf), min(h - minHessian, rh - minHessian)),
                                sc[b] - minLeaf)
                gainLeft[b] = slack >= 0 ? gain : -.infinity
                b += 1
            }
            gainLeft[last] = -.infinity
        }
        // The first of the best in bin order, missing right before missing left. An empty bin (but
        // the first and last) repeats the previous split and is skipped. `bar` is what a gain must
        // beat (`SearchParameters.beats`), updated only on a new best.
        var bestGain = 0.0, bar = 0.0, bestBin = -1, bestLeft = false
        b = 0
        while b < nb {
            if gainRight[b] > bar && (slots[stride * b + cs] != 0 || b == 0 || b == last) {
                bestGain = gainRight[b]; bestBin = b; bestLeft = false
                bar = SearchParameters.bar(bestGain)
            }
            if mc > 0 && gainLeft[b] > bar && (slots[stride * b + cs] != 0 || b == 0) {
                bestGain = gainLeft[b]; bestBin = b; bestLeft = true
                bar = SearchParameters.bar(bestGain)
            }
            b += 1
        }
        guard bestBin >= 0 else { return HistogramTreeGrower.Split() }
        if bestLeft {
            return HistogramTreeGrower.Split(gain: bestGain, feature: f, bin: bestBin, missingGoesLeft: true,
                                             leftGradient: sg[bestBin] + mg, leftHessian: sh[bestBin] + mh,
                                             leftCount: sc[bestBin] + mc)
        }
        let left = sc[bestBin]
        return HistogramTreeGrower.Split(gain: bestGain, feature: f, bin: bestBin,
                                         missingGoesLeft: mc > 0 ? false : left + left >= total,
                                         leftGradient: sg[bestBin], leftHessian: sh[bestBin], leftCount: left)
    }
}

/// A stable partition of one node's rows, in `blocks` row blocks: `split` sends each block's rows
/// to the scratch buffers, `place` copies them back, left rows first. The result doesn't depend
/// on the number of blocks.
///
/// `@unchecked Sendable`: see `Buffers`; block `k` touches only its own rows and scratch range.
private struct PartitionJob: @unchecked Sendable {
    let buffers: Buffers
    let column: UnsafePointer<UInt8>
    let missing: UInt8
    let bin: UInt8
    let missingGoesLeft: Bool
    let start: Int
    let end: Int
    var blocks: Int
    let gather: Bool
    /// Row-indexed; the smaller child's values are gathered into the ordered buffers when `gather`.
    let gradients: UnsafePointer<Double>
    let hessians: UnsafePointer<Double>?

    private func range(_ k: Int) -> Range<Int> {
        let size = (end - start + blocks - 1) / blocks
        let lo = min(end, start + k * size)
        return lo..<min(end, lo + size)
    }

    func split(block k: Int) {
        let r = range(k)
        let rows = buffers.rows, left = buffers.leftScratch, right = buffers.rightScratch
        // A table of the side of each bin and unconditional writes to both buffers: the branch
        // on a row's side would be mispredicted half the time.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { table in
            for b in 0..<256 { table[b] = UInt8(b) == missing ? (missingGoesLeft ? 1 : 0) : (b <= Int(bin) ? 1 : 0) }
            // invariant: the allocation holds 256 values.
            guard let goesLeft = table.baseAddress else { return }
            var nl = 0, nr = 0
            var p = r.lowerBound
            let leftOut = left + r.lowerBound, rightOut = right + r.lowerBound
            while p < r.upperBound {
                let row = rows[p]
                let l = goesLeft[Int(column[Int(row)])]
                leftOut[nl] = row
                rightOut[nr] = row
                nl += l
                nr += 1 - l
                p += 1
            }
            buffers.blockLeft[k] = nl
        }
    }

    /// Rows going left in all.
    func placements() -> Int {
        var total = 0
        for k in 0..<blocks { total += buffers.blockLeft[k] }
        return total
    }

    func place(block k: Int, leftTotal: Int) {
        let r = range(k)
        var leftBefore = 0
        for j in 0..<k { leftBefore += buffers.blockLeft[j] }
        let rightBefore = (r.lowerBound - start) - leftBefore
        let nl = buffers.blockLeft[k], nr = r.count - nl
        let leftDestination = start + leftBefore, rightDestination = start + leftTotal + rightBefore
        let rows = buffers.rows
        (rows + leftDestination).update(from: buffers.leftScratch + r.lowerBound, count: nl)
        (rows + rightDestination).update(from: buffers.rightScratch + r.lowerBound, count: nr)
        guard gather else { return }
        // Gather the smaller child's gradients in its row order (ties: left, as the grower picks).
        let leftSmaller = leftTotal <= (end - start) - leftTotal
        let from = leftSmaller ? leftDestination : rightDestination
        let n = leftSmaller ? nl : nr
        let childStart = leftSmaller ? start : start + leftTotal
        let g = buffers.orderedGradients, h = buffers.orderedHessians
        var i = 0
        if let hessians {
            while i < n {
                let row = Int(rows[from + i])
                g[from - childStart + i] = gradients[row]
                h[from - childStart + i] = hessians[row]
                i += 1
            }
        } else {
            while i < n {
                g[from - childStart + i] = gradients[Int(rows[from + i])]
                i += 1
            }
        }
    }
}
